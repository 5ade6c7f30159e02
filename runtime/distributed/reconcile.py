"""Reconciliation of Redis with the coordinator's SQLite store, which is ahead of Redis after a loss.

Redis with `appendfsync everysec` may lose its last second on a crash; without AOF it loses
everything. SQLite commits come first on the coordinator's path (durable before visible), so
after such a loss SQLite knows runs that Redis forgot and has ended runs whose task entries,
done keys and journal entries Redis lost. A pass brings Redis back in line, by these rules:

- a task entry (in the tasks stream or the delayed set) of a run SQLite holds as ended at that
  attempt or later is acked and deleted: it would run a finished run again;
- a queued or running run (not an embedded System's) that Redis has no trace of (no task, no
  admission, no requeue in flight) is recorded `failed` (interrupted) and requeued as its next
  attempt, so its work is not lost; a run must be settled (unchanged for a while) to count;
  a graph's child run goes with its graph's task: failed when that is lost (the graph's next
  attempt starts its children again);
- completed effects SQLite recorded are written back into the workers' journal (never over an
  entry Redis kept), so a requeued or redelivered run does not repeat a side effect whose
  outcome reached the coordinator;
- ended runs whose done key is missing get it back, so their waiters return;
- last, `{prefix}:reconciled` is set to the Redis instance's id: workers that see another id
  (Redis restarted) wait for it before taking tasks, so none runs a stale entry in between.

Effects a worker performed whose record never reached the coordinator are lost with Redis's
last second: those are the repeats the README states for `appendfsync everysec`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from agentstage.actors.coordination import Batch
from agentstage.runtime.wire import Enqueue, Requeue, RunOutcome, Task, from_wire, to_wire
from agentstage.runtime.clock import utc_ago, utc_now
from agentstage.runtime.distributed.journal import restore_op
from agentstage.runtime.errors import DecodeError, NotFound
from agentstage.runtime.owner import RunOwner
from agentstage.runtime.state.reader import RunRow, SQLiteReader
from agentstage.runtime.state.records import Event
from agentstage.runtime.streams import COORDINATOR_GROUP, KEY_TTL, WORKERS_GROUP, StreamLayout
from agentstage.runtime.transport import StreamTransport, id_key

__all__ = ["Reconciliation", "reconcile"]

_PAGE = 1000
_MAX_PENDING = 100_000
_ENDED = ("completed", "failed", "cancelled")
_LOST = "interrupted: its task is no longer in Redis (Redis lost its data); requeued as its next attempt"
_LOST_CHILD = "interrupted: the task of its graph run is no longer in Redis (Redis lost its data)"


@dataclasses.dataclass(frozen=True, slots=True)
class _Live:
    """A task Redis still holds: in the tasks stream (`entry_id`) or the delayed set (`member`)."""

    task: Task
    entry_id: str = ""
    member: bytes = b""


@dataclasses.dataclass
class Reconciliation:
    """One pass: the batch that brings Redis in line, and what it found (for the log)."""

    batch: Batch = dataclasses.field(default_factory=Batch)
    stale_tasks: int = 0
    lost_runs: int = 0
    restored_effects: int = 0
    restored_done_keys: int = 0

    def summary(self) -> str:
        return (f"{self.stale_tasks} stale tasks dropped, {self.lost_runs} lost runs requeued, "
                f"{self.restored_effects} journal entries and {self.restored_done_keys} done keys restored")

    @property
    def found(self) -> bool:
        return bool(self.stale_tasks or self.lost_runs or self.restored_effects or self.restored_done_keys)


def reconcile(reader: SQLiteReader, transport: StreamTransport, layout: StreamLayout, max_bytes: int | None, *,
              settle: float | None = None, lease: float = 30.0, restore_since: str | None = None,
              retention: int | None = None, server_id: str | None = None) -> Reconciliation:
    """One pass over what SQLite and Redis hold (see the module's rules).

    A queued run counts as lost once unchanged for `settle` seconds (None: at once, when nothing
    else writes); a running one after two leases as well, since a worker that still runs it
    learns of the lost entry at its next lease extension and stops. `restore_since`: restore
    journal entries (expiring after `retention` seconds) and done keys recorded since then (None:
    skip, for periodic passes). `server_id`: the Redis instance to mark reconciled.
    """
    found = Reconciliation()
    live, in_flight = _live(transport, layout, max_bytes)
    known = {item.task.run_id for item in live} | in_flight
    rows: dict[str, RunRow | None] = {}
    for item in live:
        row = _row(reader, item.task.run_id, rows)
        if row is not None and row.status in _ENDED and row.attempt >= item.task.attempt:
            found.stale_tasks += 1
            if item.entry_id:
                found.batch.ops += [("xack", layout.tasks, WORKERS_GROUP, item.entry_id),
                                    ("xdel", layout.tasks, item.entry_id)]
            else:
                found.batch.ops.append(("zrem", layout.delayed, item.member))
    if restore_since is not None:
        _restore_effects(reader, transport, layout, restore_since, retention, found)
    settled = {"queued": None if settle is None else utc_ago(settle), "running": utc_ago(max(settle or 0.0, 2 * lease))}
    _requeue_lost(reader, transport, layout, known, settled, found)
    if restore_since is not None:
        _restore_done_keys(reader, transport, layout, restore_since, found)
    if server_id is not None:
        found.batch.ops.append(("set", layout.reconciled, server_id, None))
    return found


def _row(reader: SQLiteReader, run_id: str, cache: dict[str, RunRow | None]) -> RunRow | None:
    if run_id not in cache:
        try:
            cache[run_id] = reader.get_run(run_id)
        except NotFound:
            cache[run_id] = None
    return cache[run_id]


def _requeue_lost(reader: SQLiteReader, transport: StreamTransport, layout: StreamLayout, known: set[str],
                  settled: dict[str, str | None], found: Reconciliation) -> None:
    for row in (row for status in ("queued", "running") for row in _rows(reader, status)):
        before = settled[row.status]
        if before is not None and row.updated_at >= before:
            continue
        root = _root(reader, row)
        if root in known or transport.exists(layout.done_key(row.run_id)):
            continue
        if any(_owned(reader, run_id) for run_id in {row.run_id, root}):
            continue
        seq = row.last_seq
        while events := reader.events(row.run_id, after_seq=seq, limit=_PAGE):
            seq = events[-1].seq
        now = utc_now()
        found.lost_runs += 1
        child = root != row.run_id
        found.batch.records.append(Event(row.run_id, seq + 1, "run.failed", now, row.session_id,
                                         {"error_type": "Interrupted", "previous_status": row.status},
                                         error=_LOST_CHILD if child else _LOST))
        if not child:
            found.batch.ops.append(("xadd", layout.control, to_wire(Requeue(row.run_id, "", now)), None))


def _owned(reader: SQLiteReader, run_id: str) -> bool:
    """Whether an embedded System runs `run_id` (its opening events name their process): not Redis's to judge."""
    return any(RunOwner.from_data(e.data) for e in reader.events(run_id, limit=2))


def _restore_effects(reader: SQLiteReader, transport: StreamTransport, layout: StreamLayout, since: str,
                     retention: int | None, found: Reconciliation) -> None:
    after = ""
    while effects := reader.effects_since(since, after_key=after, limit=_PAGE):
        answers = transport.apply([restore_op(layout, e, retention) for e in effects], atomic=False)
        found.restored_effects += sum(1 for added in answers if added)
        after = effects[-1].key


def _restore_done_keys(reader: SQLiteReader, transport: StreamTransport, layout: StreamLayout, since: str,
                       found: Reconciliation) -> None:
    ended = [row for status in _ENDED for row in _rows(reader, status, since=since)]
    for start in range(0, len(ended), _PAGE):
        page = ended[start:start + _PAGE]
        present = transport.apply([("exists", layout.done_key(row.run_id)) for row in page], atomic=False)
        for row, exists in zip(page, present):
            if exists:
                continue
            found.restored_done_keys += 1
            outcome = RunOutcome(row.run_id, row.status, row.output if row.status == "completed" else None,
                                 row.error, ended_at=row.ended_at or row.updated_at)
            found.batch.ops += [("set", layout.done_key(row.run_id), to_wire(outcome), KEY_TTL),
                                ("publish", layout.ended, row.run_id)]


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


def _rows(reader: SQLiteReader, status: str, since: str | None = None) -> Iterator[RunRow]:
    cursor = None
    while True:
        page = reader.list_runs(status=status, since=since, limit=200, cursor=cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _live(transport: StreamTransport, layout: StreamLayout, max_bytes: int | None) -> tuple[list[_Live], set[str]]:
    """Tasks Redis holds (not acked, or delayed), and the runs an admission or requeue is on its way for."""
    live = [_Live(task, member=member) for member in transport.members(layout.delayed)
            if isinstance(task := _decode(member, max_bytes), Task)]
    live += [_Live(task, entry_id=entry_id) for entry_id, payload in _unconsumed(transport, layout.tasks, WORKERS_GROUP)
             if isinstance(task := _decode(payload, max_bytes), Task)]
    in_flight = set()
    for stream in (layout.admit, layout.control):
        for _, payload in _unconsumed(transport, stream, COORDINATOR_GROUP):
            if isinstance(message := _decode(payload, max_bytes), (Enqueue, Requeue)):
                in_flight.add(message.run_id)
    return live, in_flight


def _decode(payload: bytes, max_bytes: int | None) -> object:
    try:
        return from_wire(payload, max_bytes)
    except DecodeError:
        return None


def _unconsumed(transport: StreamTransport, stream: str, group: str) -> list[tuple[str, bytes]]:
    """Entries `group` has not acked, with their payloads: pending ones and those not yet delivered."""
    info = transport.group_info(stream, group)
    last = info.last_delivered if info is not None else None
    # NOTE: pending entries are bounded by what is in flight (worker slots, the coordinator's admission room).
    pending = transport.pending_ids(stream, group, _MAX_PENDING) if info is not None and info.pending else set()
    found = []
    start = "-" if last is None or pending else "(" + last
    while entries := transport.entries(stream, start, "+", count=_PAGE):
        for entry_id, fields in entries:
            if last is None or entry_id in pending or id_key(entry_id) > id_key(last):
                found.append((entry_id, fields.get(b"m", b"")))
        start = "(" + entries[-1][0]
    return found
