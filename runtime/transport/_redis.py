"""RedisTransport: the StreamTransport of a deployment, over one thread-safe redis-py client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis

from agentstage.runtime.streams import apply_ops, autoclaim, ensure_group, entry_payload, read_group, trim_consumed
from agentstage.runtime.transport._base import GroupInfo, Op, Refused, StreamTransport
from agentstage.runtime.transport._client import redis_client

__all__ = ["RedisTransport"]


class RedisTransport(StreamTransport):
    """Redis Streams and keys through `client` (its pool gives each thread a connection)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @classmethod
    def from_url(cls, url: str) -> RedisTransport:
        """A transport on a client from the one factory; raises ValueError for a malformed URL."""
        return cls(redis_client(url))

    def append(self, stream: str, payload: bytes, *, maxlen: int | None = None) -> str:
        return _text(self.client.xadd(stream, {"m": payload}, maxlen=maxlen, approximate=True))

    def ensure_group(self, stream: str, group: str, start: str = "0") -> None:
        ensure_group(self.client, stream, group, start)

    def read_group(self, group: str, consumer: str, streams: dict[str, str], count: int,
                   block_ms: int | None) -> list[tuple[str, str, bytes | None]]:
        return read_group(self.client, group, consumer, streams, count, block_ms)

    def read(self, streams: dict[str, str], count: int, block_ms: int | None) -> list[tuple[str, str, bytes | None]]:
        reply = self.client.xread(streams, count=count, block=block_ms)
        return [(_text(stream), _text(entry_id), entry_payload(fields))
                for stream, items in reply or () for entry_id, fields in items]

    def last_id(self, stream: str) -> str:
        last = self.client.xrevrange(stream, count=1)
        return _text(last[0][0]) if last else "0-0"

    def entries(self, stream: str, start: str = "-", end: str = "+", count: int | None = None, *,
                reverse: bool = False) -> list[tuple[str, dict[bytes, bytes]]]:
        found = (self.client.xrevrange(stream, start if start != "-" else "+", end if end != "+" else "-", count=count)
                 if reverse else self.client.xrange(stream, start, end, count=count))
        return [(_text(entry_id), fields) for entry_id, fields in found]

    def length(self, stream: str) -> int:
        return int(self.client.xlen(stream))

    def autoclaim(self, stream: str, group: str, consumer: str, min_idle_ms: int, start: str,
                  count: int) -> tuple[str, list[tuple[str, bytes | None]]]:
        return autoclaim(self.client, stream, group, consumer, min_idle_ms, start, count)

    def extend_leases(self, stream: str, group: str, consumer: str, entry_ids: Sequence[str]) -> set[str]:
        if not entry_ids:
            return set()
        return {_text(k) for k in self.client.xclaim(stream, group, consumer, 0, list(entry_ids), justid=True)}

    def pending_ids(self, stream: str, group: str, count: int) -> set[str]:
        return {_text(p["message_id"]) for p in self.client.xpending_range(stream, group, "-", "+", count)}

    def group_info(self, stream: str, group: str) -> GroupInfo | None:
        try:
            found = self.client.xinfo_groups(stream)
        except Refused as exc:
            if "no such key" not in str(exc).lower():
                raise
            return None
        for info in found:
            if _text(info["name"]) == group:
                return GroupInfo(_text(info["last-delivered-id"]), int(info["pending"]), int(info.get("lag") or 0))
        return None

    def trim_consumed(self, stream: str, group: str) -> None:
        trim_consumed(self.client, stream, group)

    def apply(self, ops: Sequence[Op], *, atomic: bool = True) -> list[Any]:
        return apply_ops(self.client, ops, atomic=atomic)

    def get(self, key: str) -> bytes | None:
        return self.client.get(key)

    def exists(self, key: str) -> bool:
        return bool(self.client.exists(key))

    def delete(self, *keys: str) -> int:
        return int(self.client.delete(*keys)) if keys else 0

    def due(self, key: str, until: float, count: int) -> list[bytes]:
        return list(self.client.zrangebyscore(key, "-inf", until, start=0, num=count))

    def members(self, key: str, count: int | None = None) -> list[bytes]:
        return list(self.client.zrange(key, 0, -1 if count is None else count - 1))

    def cardinality(self, key: str) -> int:
        return int(self.client.zcard(key))

    def hash_values(self, key: str) -> list[bytes]:
        return list(self.client.hgetall(key).values())

    def ping(self) -> None:
        self.client.ping()

    def server_id(self) -> str:
        return str(self.client.info("server")["run_id"])

    def close(self) -> None:
        self.client.close()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
