"""Stream transports: the interface the distributed runtime talks to, Redis and in-memory implementations,
the one Redis client factory and the one reconnect policy."""

from agentstage.runtime.lazy import lazy_exports as _lazy_exports

__getattr__ = _lazy_exports(__name__, {
    "UNAVAILABLE": "agentstage.runtime.transport._base",
    "GroupInfo": "agentstage.runtime.transport._base",
    "Op": "agentstage.runtime.transport._base",
    "Refused": "agentstage.runtime.transport._base",
    "StreamTransport": "agentstage.runtime.transport._base",
    "id_key": "agentstage.runtime.transport._base",
    "check_redis_url": "agentstage.runtime.transport._client",
    "redis_client": "agentstage.runtime.transport._client",
    "MemoryTransport": "agentstage.runtime.transport._memory",
    "ReconnectBackoff": "agentstage.runtime.transport._reconnect",
    "Stopped": "agentstage.runtime.transport._reconnect",
    "until_reachable": "agentstage.runtime.transport._reconnect",
    "RedisTransport": "agentstage.runtime.transport._redis",
})

__all__ = [
    "UNAVAILABLE",
    "GroupInfo",
    "MemoryTransport",
    "Op",
    "ReconnectBackoff",
    "RedisTransport",
    "Refused",
    "Stopped",
    "StreamTransport",
    "check_redis_url",
    "id_key",
    "redis_client",
    "until_reachable",
]
