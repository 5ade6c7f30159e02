"""Durable state: record types, the SQLite writer and readers, schema migrations."""

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
from agentstage.runtime.state.sqlite import SQLiteWriter

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Checkpoint",
    "Event",
    "Page",
    "QueueEvent",
    "RunAttempt",
    "RunRow",
    "SQLiteReader",
    "SQLiteWriter",
    "ToolEffect",
    "WorkerHeartbeat",
]
