"""Runs the coordinator's store holds as queued or running whose task Redis no longer has.

Checked once when a coordinator starts, before it reads its streams. A run is accounted for
when its task is in the tasks stream (pending or not yet delivered), waits for a retry, or an
admission or requeue for it waits in the admit or control stream; everything else Redis lost
(a restart without AOF, a flush), and no worker will ever report on it, so it is failed.
"""

from __future__ import annotations

from collections.abc import Iterator

from agentstage.actors.coordination import Batch
from agentstage.actors.messages import Enqueue, Requeue, RunOutcome, Task, from_wire, to_wire
from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import DecodeError, NotFound
from agentstage.runtime.owner import RunOwner
from agentstage.runtime.state.reader import RunRow, SQLiteReader
from agentstage.runtime.state.records import Event
from agentstage.runtime.streams import COORDINATOR_GROUP, KEY_TTL, WORKERS_GROUP, StreamLayout
from agentstage.runtime.transport import StreamTransport, id_key

__all__ = ["lost_runs"]

_PAGE = 1000
_MAX_PENDING = 100_000
_LOST = "interrupted: its task is no longer in Redis (Redis lost its data), so no worker will run it"


def lost_runs(reader: SQLiteReader, transport: StreamTransport, layout: StreamLayout,
              max_bytes: int | None) -> Batch:
    """A batch failing each queued or running run (not an embedded System's) that Redis has no trace of."""
    batch = Batch()
    unfinished = [row for status in ("queued", "running") for row in _rows(reader, status)]
    if not unfinished:
        return batch
    known = _known_run_ids(transport, layout, max_bytes)
    for row in unfinished:
        if _root(reader, row) in known or transport.exists(layout.done_key(row.run_id)):
            continue
        head = reader.events(row.run_id, limit=2)
        if any(RunOwner.from_data(e.get("data")) for e in head):
            continue
        seq = row.last_seq
        while events := reader.events(row.run_id, after_seq=seq, limit=_PAGE):
            seq = events[-1]["seq"]
        now = utc_now()
        batch.records.append(Event(row.run_id, seq + 1, "run.failed", now, row.session_id,
                                   {"error_type": "Interrupted", "previous_status": row.status}, error=_LOST))
        outcome = RunOutcome(row.run_id, "failed", None, _LOST, "Interrupted", ended_at=now)
        batch.ops.append(("set", layout.done_key(row.run_id), to_wire(outcome), KEY_TTL))
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


def _known_run_ids(transport: StreamTransport, layout: StreamLayout, max_bytes: int | None) -> set[str]:
    payloads = transport.members(layout.delayed)
    for stream, group in ((layout.tasks, WORKERS_GROUP), (layout.admit, COORDINATOR_GROUP),
                          (layout.control, COORDINATOR_GROUP)):
        payloads.extend(_unconsumed(transport, stream, group))
    known: set[str] = set()
    for payload in payloads:
        try:
            message = from_wire(payload, max_bytes)
        except DecodeError:
            continue
        if isinstance(message, (Task, Enqueue, Requeue)):
            known.add(message.run_id)
    return known


def _unconsumed(transport: StreamTransport, stream: str, group: str) -> list[bytes]:
    """Payloads of the entries `group` has not acked: pending ones and those not yet delivered."""
    info = transport.group_info(stream, group)
    last = info.last_delivered if info is not None else None
    # NOTE: pending entries are bounded by what is in flight (worker slots, the coordinator's admission room).
    pending = transport.pending_ids(stream, group, _MAX_PENDING) if info is not None and info.pending else set()
    payloads = []
    start = "-" if last is None or pending else "(" + last
    while entries := transport.entries(stream, start, "+", count=_PAGE):
        for entry_id, fields in entries:
            if last is None or entry_id in pending or id_key(entry_id) > id_key(last):
                payloads.append(fields.get(b"m", b""))
        start = "(" + entries[-1][0]
    return payloads
