"""Durable state: record types, the store interface and its SQLite, Redis and Hybrid backends."""

from agentstage.runtime.lazy import lazy_exports as _lazy_exports

__getattr__ = _lazy_exports(__name__, {
    "StoreReader": "agentstage.runtime.state.base",
    "StoreWriter": "agentstage.runtime.state.base",
    "StateBackend": "agentstage.runtime.state.factory",
    "Health": "agentstage.runtime.state.health",
    "HybridWriter": "agentstage.runtime.state.hybrid",
    "HybridReader": "agentstage.runtime.state.hybrid_reader",
    "Page": "agentstage.runtime.state.reader",
    "RunRow": "agentstage.runtime.state.reader",
    "SQLiteReader": "agentstage.runtime.state.reader",
    "ApiKey": "agentstage.runtime.state.records",
    "AuditEntry": "agentstage.runtime.state.records",
    "Checkpoint": "agentstage.runtime.state.records",
    "Event": "agentstage.runtime.state.records",
    "QueueEvent": "agentstage.runtime.state.records",
    "RunAttempt": "agentstage.runtime.state.records",
    "ToolEffect": "agentstage.runtime.state.records",
    "WorkerHeartbeat": "agentstage.runtime.state.records",
    "RedisReader": "agentstage.runtime.state.redis_reader",
    "RedisWriter": "agentstage.runtime.state.redis_store",
    "SQLiteWriter": "agentstage.runtime.state.sqlite",
})

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
