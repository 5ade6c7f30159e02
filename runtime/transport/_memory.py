"""MemoryTransport: Redis Streams semantics inside one process, for fast tests of coordinator and worker logic.

Shipped like dramatiq's StubBroker and httpx's MockTransport: several nodes of one process share
one instance as if it were a Redis server. Consumer groups keep pending entries with their
consumer, idle time and delivery count; blocking reads wait on a condition; keys expire. Set
`available = False` to make every call raise as an unreachable server would.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from agentstage.runtime.streams import DLQ_MAXLEN
from agentstage.runtime.transport._base import GroupInfo, Op, Refused, StreamTransport, id_key

__all__ = ["MemoryTransport"]

Id = tuple[int, int]


@dataclass
class _Pending:
    consumer: str
    delivered_at: float
    times: int = 1


@dataclass
class _Group:
    last_delivered: Id
    pending: dict[Id, _Pending] = field(default_factory=dict)


@dataclass
class _Stream:
    entries: dict[Id, dict[bytes, bytes]] = field(default_factory=dict)
    last: Id = (0, 0)
    groups: dict[str, _Group] = field(default_factory=dict)

    def after(self, start: Id, count: int) -> list[Id]:
        return sorted(i for i in self.entries if i > start)[:count]


class MemoryTransport(StreamTransport):
    """An in-process stream server; thread-safe, shared by every node of a test."""

    def __init__(self) -> None:
        self.available = True
        self.instance = uuid.uuid4().hex
        self._streams: dict[str, _Stream] = {}
        self._values: dict[str, tuple[bytes, float | None]] = {}
        self._sorted: dict[str, dict[bytes, float]] = {}
        self._hashes: dict[str, dict[bytes, bytes]] = {}
        self._changed = threading.Condition()

    # -- streams --------------------------------------------------------------------------------

    def append(self, stream: str, payload: bytes, *, maxlen: int | None = None) -> str:
        with self._changed:
            self._check()
            return self._append(stream, {b"m": _bytes(payload)}, maxlen)

    def ensure_group(self, stream: str, group: str, start: str = "0") -> None:
        with self._changed:
            self._check()
            self._ensure_group(stream, group, start)

    def read_group(self, group: str, consumer: str, streams: dict[str, str], count: int,
                   block_ms: int | None) -> list[tuple[str, str, bytes | None]]:
        deadline = None if block_ms is None else time.monotonic() + block_ms / 1000
        with self._changed:
            while True:
                self._check()
                if any(group not in self._stream(s).groups for s in streams):
                    for name in streams:
                        self._ensure_group(name, group, "0")
                    return []
                found = self._read_group(group, consumer, streams, count)
                if found or deadline is None or any(start != ">" for start in streams.values()):
                    return found
                if not self._wait(deadline):
                    return []

    def read(self, streams: dict[str, str], count: int, block_ms: int | None) -> list[tuple[str, str, bytes | None]]:
        deadline = None if block_ms is None else time.monotonic() + block_ms / 1000
        with self._changed:
            while True:
                self._check()
                found = [(name, _text_id(i), self._payload(stream, i))
                         for name, start in streams.items() if (stream := self._streams.get(name)) is not None
                         for i in stream.after(id_key(start), count)][:count]
                if found or deadline is None:
                    return found
                if not self._wait(deadline):
                    return []

    def last_id(self, stream: str) -> str:
        with self._changed:
            self._check()
            entries = self._streams.get(stream)
            return _text_id(max(entries.entries)) if entries and entries.entries else "0-0"

    def entries(self, stream: str, start: str = "-", end: str = "+", count: int | None = None, *,
                reverse: bool = False) -> list[tuple[str, dict[bytes, bytes]]]:
        with self._changed:
            self._check()
            found = self._streams.get(stream)
            if found is None:
                return []
            low, high = ((end if end != "+" else "-"), (start if start != "-" else "+")) if reverse else (start, end)
            ids = sorted((i for i in found.entries if _above(i, low) and _below(i, high)), reverse=reverse)
            return [(_text_id(i), dict(found.entries[i])) for i in ids[:count]]

    def length(self, stream: str) -> int:
        with self._changed:
            self._check()
            found = self._streams.get(stream)
            return len(found.entries) if found else 0

    def autoclaim(self, stream: str, group: str, consumer: str, min_idle_ms: int, start: str,
                  count: int) -> tuple[str, list[tuple[str, bytes | None]]]:
        with self._changed:
            self._check()
            found = self._stream(stream)
            if group not in found.groups:
                self._ensure_group(stream, group, "0")
                return "0-0", []
            pending = found.groups[group].pending
            now = time.monotonic()
            ids = sorted(i for i in pending if i >= id_key(start))
            claimed: list[tuple[str, bytes | None]] = []
            for index, entry_id in enumerate(ids):
                if len(claimed) >= count:
                    return _text_id(entry_id), claimed
                holder = pending[entry_id]
                if (now - holder.delivered_at) * 1000 < min_idle_ms:
                    continue
                if entry_id not in found.entries:
                    del pending[entry_id]
                    continue
                holder.consumer, holder.delivered_at, holder.times = consumer, now, holder.times + 1
                claimed.append((_text_id(entry_id), self._payload(found, entry_id)))
            return "0-0", claimed

    def extend_leases(self, stream: str, group: str, consumer: str, entry_ids: Sequence[str]) -> set[str]:
        with self._changed:
            self._check()
            found = self._stream(stream)
            if group not in found.groups:
                raise Refused(f"NOGROUP No such key '{stream}' or consumer group '{group}'")
            pending, now, kept = found.groups[group].pending, time.monotonic(), set()
            for text in entry_ids:
                entry_id = id_key(text)
                if entry_id in pending and entry_id in found.entries:
                    pending[entry_id].consumer, pending[entry_id].delivered_at = consumer, now
                    kept.add(text)
                else:
                    pending.pop(entry_id, None)
            return kept

    def pending_ids(self, stream: str, group: str, count: int) -> set[str]:
        with self._changed:
            self._check()
            found = self._streams.get(stream)
            if found is None or group not in found.groups:
                raise Refused(f"NOGROUP No such key '{stream}' or consumer group '{group}'")
            return {_text_id(i) for i in sorted(found.groups[group].pending)[:count]}

    def group_info(self, stream: str, group: str) -> GroupInfo | None:
        with self._changed:
            self._check()
            found = self._streams.get(stream)
            info = found.groups.get(group) if found is not None else None
            if found is None or info is None:
                return None
            lag = sum(1 for i in found.entries if i > info.last_delivered)
            return GroupInfo(_text_id(info.last_delivered), len(info.pending), lag)

    def trim_consumed(self, stream: str, group: str) -> None:
        with self._changed:
            self._check()
            found = self._streams.get(stream)
            info = found.groups.get(group) if found is not None else None
            if found is None or info is None:
                return
            floor = min([info.last_delivered, *info.pending]) if info.pending else info.last_delivered
            for entry_id in [i for i in found.entries if i < floor]:
                del found.entries[entry_id]

    # -- batches, keys, sorted sets, hashes -----------------------------------------------------

    def apply(self, ops: Sequence[Op], *, atomic: bool = True) -> list[Any]:
        with self._changed:
            self._check()
            for op in ops:
                if op[0] not in _OPS:
                    raise ValueError(f"unknown stream op {op[0]!r}")
            replies = [getattr(self, _OPS[op[0]])(*op[1:]) for op in ops]
            self._changed.notify_all()
            return replies

    def get(self, key: str) -> bytes | None:
        with self._changed:
            self._check()
            return self._get(key)

    def exists(self, key: str) -> bool:
        with self._changed:
            self._check()
            return bool(self._exists(key))

    def delete(self, *keys: str) -> int:
        with self._changed:
            self._check()
            return sum(self._delete(key) for key in keys)

    def due(self, key: str, until: float, count: int) -> list[bytes]:
        with self._changed:
            self._check()
            scored = self._sorted.get(key, {})
            return [m for m, score in sorted(scored.items(), key=lambda kv: (kv[1], kv[0])) if score <= until][:count]

    def members(self, key: str, count: int | None = None) -> list[bytes]:
        with self._changed:
            self._check()
            return [m for m, _ in sorted(self._sorted.get(key, {}).items(), key=lambda kv: (kv[1], kv[0]))][:count]

    def cardinality(self, key: str) -> int:
        with self._changed:
            self._check()
            return len(self._sorted.get(key, {}))

    def hash_values(self, key: str) -> list[bytes]:
        with self._changed:
            self._check()
            return list(self._hashes.get(key, {}).values())

    def ping(self) -> None:
        with self._changed:
            self._check()

    def server_id(self) -> str:
        with self._changed:
            self._check()
            return self.instance

    def restart(self, *, keep: bool = True) -> None:
        """Emulate a server restart: a new `server_id`; with `keep=False` every stream, key and hash is gone."""
        with self._changed:
            self.instance = uuid.uuid4().hex
            if not keep:
                self._streams.clear()
                self._values.clear()
                self._sorted.clear()
                self._hashes.clear()

    def close(self) -> None:
        """Nothing to release: the data stays for the other nodes sharing this transport."""

    # -- internals (called with the lock held) --------------------------------------------------

    def _check(self) -> None:
        if not self.available:
            raise redis.ConnectionError("the in-memory transport is unavailable")

    def _wait(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self._changed.wait(remaining)
        return True

    def _stream(self, name: str) -> _Stream:
        found = self._streams.get(name)
        if found is None:
            found = self._streams[name] = _Stream()
        return found

    def _append(self, stream: str, fields: dict[bytes, bytes], maxlen: int | None) -> str:
        found = self._stream(stream)
        ms = int(time.time() * 1000)
        entry_id = (ms, 0) if ms > found.last[0] else (found.last[0], found.last[1] + 1)
        found.entries[entry_id] = fields
        found.last = entry_id
        if maxlen is not None and len(found.entries) > maxlen:
            for old in sorted(found.entries)[:len(found.entries) - maxlen]:
                del found.entries[old]
        self._changed.notify_all()
        return _text_id(entry_id)

    def _ensure_group(self, stream: str, group: str, start: str) -> None:
        found = self._stream(stream)
        if group not in found.groups:
            found.groups[group] = _Group(found.last if start == "$" else id_key(start))

    def _read_group(self, group: str, consumer: str, streams: dict[str, str],
                    count: int) -> list[tuple[str, str, bytes | None]]:
        found: list[tuple[str, str, bytes | None]] = []
        now = time.monotonic()
        for name, start in streams.items():
            stream = self._stream(name)
            info = stream.groups[group]
            if start == ">":
                for entry_id in stream.after(info.last_delivered, count - len(found)):
                    info.last_delivered = entry_id
                    held = info.pending.get(entry_id)
                    info.pending[entry_id] = _Pending(consumer, now, held.times + 1 if held else 1)
                    found.append((name, _text_id(entry_id), self._payload(stream, entry_id)))
            else:
                mine = sorted(i for i, p in info.pending.items() if p.consumer == consumer and i > id_key(start))
                for entry_id in mine[:count - len(found)]:
                    info.pending[entry_id].times += 1
                    info.pending[entry_id].delivered_at = now
                    found.append((name, _text_id(entry_id), self._payload(stream, entry_id)))
        return found

    @staticmethod
    def _payload(stream: _Stream, entry_id: Id) -> bytes | None:
        fields = stream.entries.get(entry_id)
        return None if not fields else fields.get(b"m", b"")

    def _xadd(self, stream: str, payload: bytes, maxlen: int | None) -> str:
        return self._append(stream, {b"m": _bytes(payload)}, maxlen)

    def _dlq(self, stream: str, fields: dict[str, Any]) -> str:
        return self._append(stream, {_bytes(k): _bytes(v) for k, v in fields.items()}, DLQ_MAXLEN)

    def _xack(self, stream: str, group: str, *entry_ids: str) -> int:
        found = self._streams.get(stream)
        info = found.groups.get(group) if found is not None else None
        if info is None:
            return 0
        return sum(info.pending.pop(id_key(entry_id), None) is not None for entry_id in entry_ids)

    def _xdel(self, stream: str, entry_id: str) -> int:
        found = self._streams.get(stream)
        return int(found is not None and found.entries.pop(id_key(entry_id), None) is not None)

    def _xlen(self, stream: str) -> int:
        found = self._streams.get(stream)
        return len(found.entries) if found else 0

    def _zadd(self, key: str, member: bytes, score: float) -> int:
        scored = self._sorted.setdefault(key, {})
        new = _bytes(member) not in scored
        scored[_bytes(member)] = float(score)
        return int(new)

    def _zrem(self, key: str, member: bytes) -> int:
        return int(self._sorted.get(key, {}).pop(_bytes(member), None) is not None)

    def _set(self, key: str, value: Any, ttl: float | None) -> bool:
        self._values[key] = (_bytes(value), None if ttl is None else time.monotonic() + ttl)
        return True

    def _setnx(self, key: str, value: Any, ttl: float | None) -> bool | None:
        if self._get(key) is not None:
            return None
        return self._set(key, value, ttl)

    def _mark(self, key: str, value: Any, ttl: float | None, fence: str, attempt: int) -> int:
        if int(self._get(fence) or 0) > attempt:
            return -1
        return 1 if self._setnx(key, value, ttl) else 0

    def _get(self, key: str) -> bytes | None:
        found = self._values.get(key)
        if found is None:
            return None
        value, expires = found
        if expires is not None and time.monotonic() >= expires:
            del self._values[key]
            return None
        return value

    def _exists(self, key: str) -> int:
        return int(self._get(key) is not None or key in self._streams or bool(self._sorted.get(key))
                   or bool(self._hashes.get(key)))

    def _delete(self, key: str) -> int:
        existed = self._exists(key)
        for table in (self._values, self._streams, self._sorted, self._hashes):
            table.pop(key, None)
        return existed

    def _hset(self, key: str, name: Any, value: Any) -> int:
        table = self._hashes.setdefault(key, {})
        new = _bytes(name) not in table
        table[_bytes(name)] = _bytes(value)
        return int(new)

    def _hsetnx(self, key: str, name: Any, value: Any) -> int:
        table = self._hashes.setdefault(key, {})
        if _bytes(name) in table:
            return 0
        table[_bytes(name)] = _bytes(value)
        return 1

    def _hget(self, key: str, name: Any) -> bytes | None:
        return self._hashes.get(key, {}).get(_bytes(name))

    def _hdel(self, key: str, name: Any) -> int:
        return int(self._hashes.get(key, {}).pop(_bytes(name), None) is not None)

    def _publish(self, channel: str, message: Any) -> int:
        """Nobody subscribes in process: a waiter on this transport reads the done key instead."""
        return 0

    def _xadd_many(self, stream: str, payloads: tuple[Any, ...], maxlen: int | None) -> int:
        for payload in payloads:
            self._xadd(stream, payload, maxlen)
        return len(payloads)

    def _set_publish(self, ttl: float, channel: str, items: tuple[tuple[str, Any, Any], ...]) -> int:
        for key, value, message in items:
            self._set(key, value, ttl)
            self._publish(channel, message)
        return len(items)

    def _claim(self, value: Any, ttl: float, pairs: tuple[tuple[str, str], ...]) -> list[int]:
        return [int(part) for claim, cancel in pairs
                for part in (self._setnx(claim, value, ttl) is not None, self._exists(cancel))]


_OPS = {kind: f"_{kind}" for kind in ("xadd", "dlq", "xack", "xdel", "xlen", "zadd", "zrem", "set", "setnx", "mark", "get",
                                      "hset", "hsetnx", "hget", "hdel", "publish", "xadd_many", "set_publish",
                                      "claim")}
_OPS.update({"exists": "_exists", "del": "_delete"})


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return str(value).encode()


def _text_id(entry_id: Id) -> str:
    return f"{entry_id[0]}-{entry_id[1]}"


def _above(entry_id: Id, bound: str) -> bool:
    if bound in ("-", "+"):
        return bound == "-"
    return entry_id > id_key(bound[1:]) if bound.startswith("(") else entry_id >= id_key(bound)


def _below(entry_id: Id, bound: str) -> bool:
    if bound in ("-", "+"):
        return bound == "+"
    return entry_id < id_key(bound[1:]) if bound.startswith("(") else entry_id <= id_key(bound)
