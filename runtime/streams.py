"""Redis Streams transport: key layout, consumer groups, reads, atomic batches, trimming.

Knows nothing about actors. Every stream entry carries one field, `m`, holding `to_wire(message)`.
Layout under a configurable prefix:

    {p}:admit     Enqueue from clients -> coordinator (group `coordinator`)
    {p}:tasks     Task for workers (group `workers`)
    {p}:results   TaskRecords / TaskDone / TaskReleased / Heartbeat -> coordinator (group `coordinator`)
    {p}:control   Cancel / Requeue -> coordinator (group `coordinator`); workers also XREAD it for cancels
    {p}:dlq       dead-lettered entries with reason, attempts, worker and last error
    {p}:delayed   sorted set of retry Tasks scored by due time (survives restarts)
    {p}:workers   hash worker_id -> latest heartbeat JSON
    {p}:effect:KEY, {p}:effect-intent:KEY   the workers' effect journal: a call's result JSON and its
                  started marker, each expiring after the effect retention ({p}:effects and
                  {p}:effect-intents are the hashes written before entries expired, still read)
    {p}:reconciled  the Redis run id the coordinator last reconciled SQLite with (workers wait on a mismatch)
    {p}:cancel:ID, {p}:claim:TASK:ATTEMPT, {p}:done:ID, {p}:reply:TOKEN   small keys with TTLs
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
from redis.exceptions import ResponseError

__all__ = [
    "COORDINATOR_GROUP",
    "Entry",
    "Op",
    "REDIS_DOWN",
    "StreamLayout",
    "WORKERS_GROUP",
    "apply_ops",
    "autoclaim",
    "ensure_group",
    "entry_payload",
    "read_group",
    "trim_consumed",
]

WORKERS_GROUP = "workers"
COORDINATOR_GROUP = "coordinator"
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError)
"""Errors that mean Redis is unreachable right now: back off and retry, never give up."""

DLQ_MAXLEN = 100_000
CONTROL_MAXLEN = 10_000
KEY_TTL = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class StreamLayout:
    """The Redis keys of one agentstage deployment (everything under `prefix`)."""

    prefix: str = "agentstage"

    @property
    def admit(self) -> str:
        return f"{self.prefix}:admit"

    @property
    def tasks(self) -> str:
        return f"{self.prefix}:tasks"

    @property
    def results(self) -> str:
        return f"{self.prefix}:results"

    @property
    def control(self) -> str:
        return f"{self.prefix}:control"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}:dlq"

    @property
    def delayed(self) -> str:
        return f"{self.prefix}:delayed"

    @property
    def ended(self) -> str:
        """The channel the coordinator publishes a run's id on once its end is durable and its done key set."""
        return f"{self.prefix}:ended"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:workers"

    @property
    def effects(self) -> str:
        return f"{self.prefix}:effects"

    @property
    def reconciled(self) -> str:
        """The `server_id` of the Redis instance the coordinator last reconciled with SQLite (workers wait for it)."""
        return f"{self.prefix}:reconciled"

    @property
    def catalog(self) -> str:
        """The coordinator's copy of the stored tool catalog (custom tools, instances, bindings) for workers."""
        return f"{self.prefix}:catalog"

    def effect_key(self, key: str) -> str:
        """The journalled outcome of the side-effecting call with idempotency key `key`."""
        return f"{self.prefix}:effect:{key}"

    def effect_intent_key(self, key: str) -> str:
        """The started marker of the side-effecting call with idempotency key `key`."""
        return f"{self.prefix}:effect-intent:{key}"

    def fence_key(self, run_id: str) -> str:
        """The lowest attempt of run `run_id` still allowed to start a side effect (set when one is retried)."""
        return f"{self.prefix}:fence:{run_id}"

    def cancel_key(self, run_id: str) -> str:
        return f"{self.prefix}:cancel:{run_id}"

    def claim_key(self, task_id: str, attempt: int) -> str:
        return f"{self.prefix}:claim:{task_id}:{attempt}"

    def done_key(self, run_id: str) -> str:
        return f"{self.prefix}:done:{run_id}"

    def reply_key(self, token: str) -> str:
        return f"{self.prefix}:reply:{token}"

    @property
    def streams(self) -> tuple[str, ...]:
        return (self.admit, self.tasks, self.results, self.control)


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry as read: `message` is decoded, or None with `error` saying why."""

    stream: str
    entry_id: str
    raw: bytes
    message: Any = None
    error: str | None = None


Op = tuple[Any, ...]
"""One command of a batch; the vocabulary is listed in `agentstage.runtime.transport.Op`."""


def ensure_group(client: redis.Redis, stream: str, group: str, start: str = "0") -> None:
    """Create `group` on `stream` (and the stream itself); an existing group is left alone."""
    try:
        client.xgroup_create(stream, group, id=start, mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def autoclaim(client: redis.Redis, stream: str, group: str, consumer: str, min_idle_ms: int, start: str,
              count: int) -> tuple[str, list[tuple[str, bytes | None]]]:
    """XAUTOCLAIM entries of `group` idle past `min_idle_ms`; a missing group (NOGROUP) is created.

    Returns where the scan continues ("0-0" when done) and (entry_id, payload) pairs, payload as in
    `read_group`.
    """
    try:
        following, claimed, *_ = client.xautoclaim(stream, group, consumer, min_idle_ms, start, count=count)
    except ResponseError as exc:
        if "NOGROUP" not in str(exc):
            raise
        ensure_group(client, stream, group)
        return "0-0", []
    entries = [(_text(entry_id), entry_payload(fields)) for entry_id, fields in claimed if entry_id is not None]
    return _text(following), entries


def read_group(client: redis.Redis, group: str, consumer: str, streams: dict[str, str], count: int,
               block_ms: int | None) -> list[tuple[str, str, bytes]]:
    """XREADGROUP `streams` ({stream: ">" or "0"}); a lost group (NOGROUP) is recreated.

    Returns (stream, entry_id, payload) triples; `payload` is None for an entry deleted while pending
    and b"" for an entry without an `m` field.
    """
    try:
        reply = client.xreadgroup(group, consumer, streams, count=count, block=block_ms)
    except ResponseError as exc:
        if "NOGROUP" not in str(exc):
            raise
        for stream in streams:
            ensure_group(client, stream, group)
        return []
    entries = []
    for stream, items in reply or ():
        name = stream.decode() if isinstance(stream, bytes) else stream
        for entry_id, fields in items:
            eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            entries.append((name, eid, entry_payload(fields)))
    return entries


def entry_payload(fields: dict[bytes, bytes] | None) -> bytes | None:
    """The `m` field of an entry as read: None when the entry is gone (no fields at all), b"" when absent."""
    if not fields:
        return None
    return fields.get(b"m", b"")


_MARK_UNLESS_FENCED = """
if tonumber(redis.call('GET', KEYS[2]) or '0') > tonumber(ARGV[3]) then return -1 end
local set
if ARGV[2] == '' then set = redis.call('SET', KEYS[1], ARGV[1], 'NX')
else set = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) end
if set then return 1 end
return 0
"""
"""Op `mark`: SET NX a marker unless the fence key holds a higher attempt (1 set, 0 already there, -1 fenced)."""


_ADD_MANY = """
for i = 2, #ARGV do
  if ARGV[1] == '' then redis.call('XADD', KEYS[1], '*', 'm', ARGV[i])
  else redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[i]) end
end
return #ARGV - 1
"""
"""Op `xadd_many`: append every payload to one stream, in order; returns how many."""

_SET_PUBLISH = """
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[2 + 2 * i - 1], 'EX', ARGV[1])
  redis.call('PUBLISH', ARGV[2], ARGV[2 + 2 * i])
end
return #KEYS
"""
"""Op `set_publish`: per item SET key value EX ttl, then PUBLISH its message on the channel."""

_CLAIM = """
local out = {}
for i = 1, #KEYS, 2 do
  out[#out + 1] = redis.call('SET', KEYS[i], ARGV[1], 'NX', 'EX', ARGV[2]) and 1 or 0
  out[#out + 1] = redis.call('EXISTS', KEYS[i + 1])
end
return out
"""
"""Op `claim`: per pair SET NX the claim key and see whether the cancel key exists: [claimed, cancelled, ...]."""


def coalesce(ops: Sequence[Op]) -> list[Op]:
    """`ops` with every `xack` of one stream and group folded into one (XACK takes many ids), and every `xadd` to one
    stream into one `xadd_many`, each at its first place (payloads in order).

    PERF: a command costs the client about as much to build and parse as the server to run; most of what a
    coordinator or worker flushes is acks and appends. For a batch applied in one MULTI/EXEC, where the order of
    acks and appends among the other ops is not observable (nothing in a flush reads a stream).
    """
    folded: list[Op | _Fold] = []
    places: dict[tuple[Any, ...], _Fold] = {}
    for op in ops:
        kind = op[0]
        if kind not in ("xack", "xadd"):
            folded.append(op)
            continue
        key = (kind, op[1], op[2]) if kind == "xack" else (kind, op[1], op[3])
        found = places.get(key)
        if found is None:
            found = places[key] = _Fold(key, [])
            folded.append(found)
        found.items.extend(op[3:] if kind == "xack" else (op[2],))
    return [op.op() if isinstance(op, _Fold) else op for op in folded]


@dataclass(slots=True)
class _Fold:
    """The acks of one stream and group, or the appends to one stream, gathered by `coalesce`."""

    key: tuple[Any, ...]
    items: list[Any]

    def op(self) -> Op:
        kind, stream, detail = self.key
        if kind == "xack":
            return ("xack", stream, detail, *self.items)
        if len(self.items) == 1:
            return ("xadd", stream, self.items[0], detail)
        return ("xadd_many", stream, tuple(self.items), detail)


def apply_ops(client: redis.Redis, ops: Sequence[Op], *, atomic: bool = True) -> list[Any]:
    """Run `ops` in one MULTI/EXEC (all or nothing), or one plain pipeline; returns the replies in order."""
    pipe = client.pipeline(transaction=atomic)
    for op in ops:
        kind = op[0]
        if kind == "xadd":
            _, stream, data, maxlen = op
            pipe.xadd(stream, {"m": data}, maxlen=maxlen, approximate=True)
        elif kind == "xadd_many":
            _, stream, payloads, maxlen = op
            pipe.eval(_ADD_MANY, 1, stream, "" if maxlen is None else maxlen, *payloads)
        elif kind == "set_publish":
            _, ttl, channel, items = op
            pipe.eval(_SET_PUBLISH, len(items), *(key for key, _, _ in items), ttl, channel,
                      *(part for _, value, message in items for part in (value, message)))
        elif kind == "claim":
            _, value, ttl, pairs = op
            pipe.eval(_CLAIM, 2 * len(pairs), *(key for pair in pairs for key in pair), value, ttl)
        elif kind == "xack":
            pipe.xack(op[1], op[2], *op[3:])
        elif kind == "xdel":
            pipe.xdel(op[1], op[2])
        elif kind == "xlen":
            pipe.xlen(op[1])
        elif kind == "zadd":
            pipe.zadd(op[1], {op[2]: op[3]})
        elif kind == "zrem":
            pipe.zrem(op[1], op[2])
        elif kind == "set":
            pipe.set(op[1], op[2], ex=op[3])
        elif kind == "setnx":
            pipe.set(op[1], op[2], ex=op[3], nx=True)
        elif kind == "mark":
            _, key, value, ttl, fence, attempt = op
            pipe.eval(_MARK_UNLESS_FENCED, 2, key, fence, value, ttl or "", attempt)
        elif kind == "get":
            pipe.get(op[1])
        elif kind == "exists":
            pipe.exists(op[1])
        elif kind == "del":
            pipe.delete(op[1])
        elif kind == "hset":
            pipe.hset(op[1], op[2], op[3])
        elif kind == "hsetnx":
            pipe.hsetnx(op[1], op[2], op[3])
        elif kind == "hget":
            pipe.hget(op[1], op[2])
        elif kind == "hdel":
            pipe.hdel(op[1], op[2])
        elif kind == "publish":
            pipe.publish(op[1], op[2])
        elif kind == "dlq":
            _, dlq, fields = op
            pipe.xadd(dlq, fields, maxlen=DLQ_MAXLEN, approximate=True)
        else:
            raise ValueError(f"unknown stream op {kind!r}")
    return pipe.execute()


def dlq_fields(*, stream: str, entry_id: str, raw: bytes, reason: str, run_id: str = "", task_id: str = "",
               attempts: int = 0, worker: str = "", last_error: str = "") -> dict[str, Any]:
    """The fields of one DLQ entry; `m` keeps the original payload byte for byte."""
    return {"m": raw, "stream": stream, "entry_id": entry_id, "reason": reason, "run_id": run_id,
            "task_id": task_id, "attempts": attempts, "worker": worker, "last_error": last_error or "",
            "ts": time.time()}


def trim_consumed(client: redis.Redis, stream: str, group: str) -> None:
    """Trim `stream` below the oldest entry `group` still needs (pending or not yet delivered)."""
    try:
        found = client.xinfo_groups(stream)
    except ResponseError as exc:
        if "no such key" not in str(exc).lower():
            raise
        return
    groups = {g["name"].decode() if isinstance(g["name"], bytes) else g["name"]: g for g in found}
    info = groups.get(group)
    if info is None:
        return
    last = info["last-delivered-id"]
    floor = last.decode() if isinstance(last, bytes) else last
    summary = client.xpending(stream, group)
    if summary and summary.get("pending"):
        oldest = summary["min"].decode() if isinstance(summary["min"], bytes) else summary["min"]
        floor = min(floor, oldest, key=_id_key)
    if floor != "0-0":
        client.xtrim(stream, minid=floor, approximate=True)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def decode_fields(fields: dict[bytes, bytes]) -> dict[str, Any]:
    """A DLQ entry's fields as text (the payload `m` decoded as UTF-8 with replacement)."""
    return {k.decode(): v.decode(errors="replace") for k, v in fields.items()}


def retry_delay(attempt: int, base: float, maximum: float, jitter: float) -> float:
    """Seconds before attempt `attempt + 1`: base * 2^(attempt-1), capped, minus up to `jitter` of it."""
    delay = min(base * 2 ** max(attempt - 1, 0), maximum)
    return delay * (1 - random.uniform(0, min(max(jitter, 0.0), 1.0)))
