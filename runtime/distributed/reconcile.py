"""Runs the coordinator's store holds as queued or running whose task Redis no longer has.

Checked once when a coordinator starts, before it reads its streams. A run is accounted for
when its task is in the tasks stream (pending or not yet delivered), waits for a retry, or an
admission or requeue for it waits in the admit or control stream; everything else Redis lost
(a restart without AOF, a flush), and no worker will ever report on it, so it is failed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import redis

from agentstage.actors.coordination import Batch
from agentstage.actors.messages import Enqueue, Requeue, Task, from_wire
from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import DecodeError, NotFound
from agentstage.runtime.owner import RunOwner
from agentstage.runtime.state.reader import RunRow, SQLiteReader
from agentstage.runtime.state.records import Event
from agentstage.runtime.streams import COORDINATOR_GROUP, KEY_TTL, WORKERS_GROUP, StreamLayout

__all__ = ["lost_runs"]

_PAGE = 1000
_MAX_PENDING = 100_000
_LOST = "interrupted: its task is no longer in Redis (Redis lost its data), so no worker will run it"


def lost_runs(reader: SQLiteReader, client: redis.Redis, layout: StreamLayout, max_bytes: int | None) -> Batch:
    """A batch failing each queued or running run (not an embedded System's) that Redis has no trace of."""
    batch = Batch()
    unfinished = [row for status in ("queued", "running") for row in _rows(reader, status)]
    if not unfinished:
        return batch
    known = _known_run_ids(client, layout, max_bytes)
    for row in unfinished:
        if _root(reader, row) in known or client.exists(layout.done_key(row.run_id)):
            continue
        head = reader.events(row.run_id, limit=2)
        if any(RunOwner.from_data(e.get("data")) for e in head):
            continue
        seq = row.last_seq
        while events := reader.events(row.run_id, after_seq=seq, limit=_PAGE):
            seq = events[-1]["seq"]
        batch.records.append(Event(row.run_id, seq + 1, "run.failed", utc_now(), row.session_id,
                                   {"error_type": "Interrupted", "previous_status": row.status}, error=_LOST))
        batch.ops.append(("set", layout.done_key(row.run_id),
                          json.dumps({"status": "failed", "output": None, "error": _LOST}), KEY_TTL))
    return batch


def _root(reader: SQLiteReader, row: RunRow) -> str:
    """The run whose task carries `row`: itself, or for a graph's child run the top-most parent."""
    for _ in range(16):
        if not row.parent_run_id:
            break
        try:
            row = reader.get_run(row.parent_run_id)
        except NotFound:
            break
    return row.run_id


def _rows(reader: SQLiteReader, status: str) -> Iterator[RunRow]:
    cursor = None
    while True:
        page = reader.list_runs(status=status, limit=200, cursor=cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _known_run_ids(client: redis.Redis, layout: StreamLayout, max_bytes: int | None) -> set[str]:
    payloads = list(client.zrange(layout.delayed, 0, -1))
    for stream, group in ((layout.tasks, WORKERS_GROUP), (layout.admit, COORDINATOR_GROUP),
                          (layout.control, COORDINATOR_GROUP)):
        payloads.extend(_unconsumed(client, stream, group))
    known: set[str] = set()
    for payload in payloads:
        try:
            message = from_wire(payload, max_bytes)
        except DecodeError:
            continue
        if isinstance(message, (Task, Enqueue, Requeue)):
            known.add(message.run_id)
    return known


def _unconsumed(client: redis.Redis, stream: str, group: str) -> list[bytes]:
    """Payloads of the entries `group` has not acked: pending ones and those not yet delivered."""
    last = None
    try:
        for info in client.xinfo_groups(stream):
            name = info["name"].decode() if isinstance(info["name"], bytes) else info["name"]
            if name == group:
                raw = info["last-delivered-id"]
                last = raw.decode() if isinstance(raw, bytes) else raw
    except redis.ResponseError:  # NOTE: no such stream yet
        return []
    # NOTE: pending entries are bounded by what is in flight (worker slots, the coordinator's admission room).
    pending = ({_text(p["message_id"]) for p in client.xpending_range(stream, group, "-", "+", _MAX_PENDING)}
               if last is not None else set())
    payloads = []
    start = "-" if last is None or pending else "(" + last
    while entries := client.xrange(stream, start, "+", count=_PAGE):
        for entry_id, fields in entries:
            eid = _text(entry_id)
            if last is None or eid in pending or _id(eid) > _id(last):
                payloads.append(fields.get(b"m", b""))
        start = "(" + _text(entries[-1][0])
    return payloads


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
