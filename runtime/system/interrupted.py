"""Runs a dead process left `running` or `queued`: found and failed when a System opens the store.

Only runs an embedded System recorded as its own (`owner` in their opening event) are
considered, and only those of this host whose process is gone; runs of live processes (another
`ui`, an API process) and runs of distributed workers (the coordinator's to reconcile) stay.
"""

from __future__ import annotations

from collections.abc import Iterator

from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import NotFound
from agentstage.runtime.owner import RunOwner
from agentstage.runtime.state.base import StoreReader
from agentstage.runtime.state.reader import RunRow
from agentstage.runtime.state.records import Event

__all__ = ["interrupted_runs"]

_UNFINISHED = ("running", "queued")
_PAGE = 1000


def interrupted_runs(reader: StoreReader) -> list[Event]:
    """A `run.failed` event for each run whose owning process on this host has died."""
    failed = []
    for row in _unfinished(reader):
        owner, last_seq = _scan(reader, row.run_id)
        if owner is None and row.parent_run_id:
            # NOTE: a graph's child run queued by its node names no owner until its agent starts it.
            owner, last_seq = _ancestor_owner(reader, row.parent_run_id), _last_seq(reader, row.run_id)
        if owner is None or not owner.is_local() or owner.is_alive():
            continue
        error = f"interrupted: the process running it ({owner.describe()}) stopped before the run finished"
        failed.append(Event(row.run_id, max(last_seq, row.last_seq) + 1, "run.failed", utc_now(), row.session_id,
                            {"error_type": "Interrupted", "owner": owner.to_data(), "previous_status": row.status},
                            error=error))
    return failed


def _unfinished(reader: StoreReader) -> Iterator[RunRow]:
    for status in _UNFINISHED:
        cursor = None
        while True:
            page = reader.list_runs(status=status, limit=200, cursor=cursor)
            yield from page.items
            if page.next_cursor is None:
                break
            cursor = page.next_cursor


def _ancestor_owner(reader: StoreReader, run_id: str) -> RunOwner | None:
    """The owner of run `run_id`, else of the nearest ancestor that names one."""
    for _ in range(16):
        owner, _ = _scan(reader, run_id)
        if owner is not None:
            return owner
        try:
            parent = reader.get_run(run_id).parent_run_id
        except NotFound:
            return None
        if not parent:
            return None
        run_id = parent
    return None


def _last_seq(reader: StoreReader, run_id: str) -> int:
    seq = 0
    while events := reader.events(run_id, after_seq=seq, limit=_PAGE):
        seq = events[-1].seq
    return seq


def _scan(reader: StoreReader, run_id: str) -> tuple[RunOwner | None, int]:
    """The owner in the run's latest opening event (run.queued, run.started, run.resumed) and its last seq."""
    # PERF: an embedded run names its owner in its first two events (run.queued, run.started); a coordinator's
    # runs never do, so they cost one short read each, however long they are.
    if not any(RunOwner.from_data(e.data) for e in reader.events(run_id, limit=2)):
        return None, 0
    owner, after = None, 0
    while True:
        events = reader.events(run_id, after_seq=after, limit=_PAGE)
        for event in events:
            if event.type in ("run.queued", "run.started", "run.resumed"):
                owner = RunOwner.from_data(event.data)
        if events:
            after = events[-1].seq
        if len(events) < _PAGE:
            return owner, after
