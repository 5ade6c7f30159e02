"""Durable state: record types, the store interface and its SQLite, Redis and Hybrid backends."""

from agentstage.runtime.state.base import StoreReader, StoreWriter
from agentstage.runtime.state.factory import StateBackend
from agentstage.runtime.state.health import Health
from agentstage.runtime.state.hybrid import HybridWriter
from agentstage.runtime.state.hybrid_reader import HybridReader
from agentstage.runtime.state.reader import Page, RunRow, SQLiteReader
from agentstage.runtime.state.records import (
    ApiKey,
    AuditEntry,
    Checkpoint,
    Event,
    QueueEvent,
    RunAttempt,
    ToolEffect,
    WorkerHeartbeat,
)
from agentstage.runtime.state.redis_reader import RedisReader
from agentstage.runtime.state.redis_store import RedisWriter
from agentstage.runtime.state.sqlite import SQLiteWriter

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Checkpoint",
    "Event",
    "Health",
    "HybridReader",
    "HybridWriter",
    "Page",
    "QueueEvent",
    "RedisReader",
    "RedisWriter",
    "RunAttempt",
    "RunRow",
    "SQLiteReader",
    "SQLiteWriter",
    "StateBackend",
    "StoreReader",
    "StoreWriter",
    "ToolEffect",
    "WorkerHeartbeat",
]
