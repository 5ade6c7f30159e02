"""StreamTransport: what the distributed runtime asks of its stream server, with Redis Streams semantics.

Streams with consumer groups (append, group reads, acks, pending entries, idle claims, trims),
atomic batches of `Op`s, and the few keys, sorted sets and hashes the coordinator and workers
share. `RedisTransport` is the real one; `MemoryTransport` keeps the same semantics in one
process, for fast tests of coordinator and worker logic. Either raises one of `UNAVAILABLE`
while the server cannot be reached (wait it out, see `reconnect`) and `Refused` for a command
the server rejects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

__all__ = ["GroupInfo", "Op", "Refused", "StreamTransport", "UNAVAILABLE", "id_key"]

UNAVAILABLE: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)
"""Errors that mean the server is unreachable right now: back off and retry, never give up."""

Refused = redis.ResponseError
"""The server refused a command (a wrong type, a malformed id)."""

Op = tuple[Any, ...]
"""One command of a batch (`StreamTransport.apply`):
("xadd", stream, payload, maxlen|None), ("dlq", stream, fields), ("xack", stream, group, id, ...) -> acked, ("xdel", stream, id),
("xlen", stream), ("zadd", key, member, score), ("zrem", key, member), ("set", key, value, ttl|None),
("setnx", key, value, ttl) -> bool,
("mark", key, value, ttl, fence_key, attempt) -> 1 set / 0 already set / -1 fence_key holds a higher attempt, ("get", key), ("exists", key) -> int, ("del", key),
("hset", key, field, value), ("hsetnx", key, field, value), ("hget", key, field), ("hdel", key, field),
("publish", channel, message) -> receivers,
("xadd_many", stream, payloads, maxlen|None) -> appended, ("set_publish", ttl, channel, ((key, value, message), ...))
-> items, ("claim", value, ttl, ((claim_key, cancel_key), ...)) -> [claimed, cancelled, ...] (1 or 0 each)."""


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A consumer group of one stream: last entry delivered, entries pending, entries not yet delivered."""

    last_delivered: str
    pending: int
    lag: int


class StreamTransport(ABC):
    """Streams, consumer groups and shared keys; every method may raise UNAVAILABLE or Refused.

    Payloads and values are bytes (str is encoded as UTF-8). Entry ids are Redis ids, "ms-seq".
    Safe to call from any thread.
    """

    # -- streams --------------------------------------------------------------------------------

    @abstractmethod
    def append(self, stream: str, payload: bytes, *, maxlen: int | None = None) -> str:
        """Add an entry whose field `m` is `payload`; returns its id. `maxlen` trims (approximately) older ones."""

    @abstractmethod
    def ensure_group(self, stream: str, group: str, start: str = "0") -> None:
        """Create `group` on `stream` (and the stream), reading from after `start`; an existing group stays."""

    @abstractmethod
    def read_group(self, group: str, consumer: str, streams: dict[str, str], count: int,
                   block_ms: int | None) -> list[tuple[str, str, bytes | None]]:
        """Read as `consumer`: `{stream: ">"}` for new entries, `{stream: id}` for own pending ones after `id`.

        Returns (stream, entry_id, payload) triples; payload None for an entry deleted while pending,
        b"" for one without an `m` field. A missing group is created (and nothing returned).
        """

    @abstractmethod
    def read(self, streams: dict[str, str], count: int, block_ms: int | None) -> list[tuple[str, str, bytes | None]]:
        """Read entries after each given id without a group (a follower); triples as in `read_group`."""

    @abstractmethod
    def last_id(self, stream: str) -> str:
        """The id of the newest entry, "0-0" when the stream is empty or missing."""

    @abstractmethod
    def entries(self, stream: str, start: str = "-", end: str = "+", count: int | None = None, *,
                reverse: bool = False) -> list[tuple[str, dict[bytes, bytes]]]:
        """Entries with their raw fields, from `start` to `end` inclusive ("(" prefix: exclusive), oldest first
        (newest first with `reverse`, where `start` is the upper bound)."""

    @abstractmethod
    def length(self, stream: str) -> int:
        """Entries in `stream` (0 when missing)."""

    @abstractmethod
    def autoclaim(self, stream: str, group: str, consumer: str, min_idle_ms: int, start: str,
                  count: int) -> tuple[str, list[tuple[str, bytes | None]]]:
        """Take entries of `group` idle past `min_idle_ms` for `consumer`, scanning from `start`.

        Returns where the scan continues ("0-0" when done) and (entry_id, payload) pairs. A missing
        group is created.
        """

    @abstractmethod
    def extend_leases(self, stream: str, group: str, consumer: str, entry_ids: Sequence[str]) -> set[str]:
        """Reset the idle time of pending entries for `consumer`; returns the ids still pending (the rest were lost)."""

    @abstractmethod
    def pending_ids(self, stream: str, group: str, count: int) -> set[str]:
        """Ids of up to `count` entries of `group` delivered and not acked."""

    @abstractmethod
    def group_info(self, stream: str, group: str) -> GroupInfo | None:
        """The group's position, or None while the stream or the group does not exist."""

    @abstractmethod
    def trim_consumed(self, stream: str, group: str) -> None:
        """Drop the entries below the oldest one `group` still needs (pending or not yet delivered)."""

    # -- batches, keys, sorted sets, hashes -----------------------------------------------------

    @abstractmethod
    def apply(self, ops: Sequence[Op], *, atomic: bool = True) -> list[Any]:
        """Run `ops` in order, all or nothing when `atomic`; returns their replies in order."""

    @abstractmethod
    def get(self, key: str) -> bytes | None:
        """The value of `key`, None when missing or expired."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether `key` holds anything (a value, stream, sorted set or hash)."""

    @abstractmethod
    def delete(self, *keys: str) -> int:
        """Remove `keys`; returns how many existed."""

    @abstractmethod
    def due(self, key: str, until: float, count: int) -> list[bytes]:
        """Up to `count` members of the sorted set `key` scored at most `until`, lowest first."""

    @abstractmethod
    def members(self, key: str, count: int | None = None) -> list[bytes]:
        """The first `count` members (all when None) of the sorted set `key`, lowest score first."""

    @abstractmethod
    def cardinality(self, key: str) -> int:
        """Members of the sorted set `key`."""

    @abstractmethod
    def hash_values(self, key: str) -> list[bytes]:
        """Every value of the hash `key`."""

    @abstractmethod
    def ping(self) -> None:
        """Return when the server answers; raise UNAVAILABLE (or another redis error) when it does not."""

    @abstractmethod
    def server_id(self) -> str:
        """An id of the running server instance: it changes when the server restarts (and may have lost data)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections; the transport is not used afterwards."""


def id_key(entry_id: str) -> tuple[int, int]:
    """An entry id as a sortable pair."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
