"""Stream transports: the interface the distributed runtime talks to, Redis and in-memory implementations,
the one Redis client factory and the one reconnect policy."""

from agentstage.runtime.transport._base import UNAVAILABLE, GroupInfo, Op, Refused, StreamTransport, id_key
from agentstage.runtime.transport._client import check_redis_url, redis_client
from agentstage.runtime.transport._memory import MemoryTransport
from agentstage.runtime.transport._reconnect import ReconnectBackoff, Stopped, until_reachable
from agentstage.runtime.transport._redis import RedisTransport

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
