"""The coordinator's messages and bookkeeping: delivered batches, active runs, load."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentstage.runtime.wire import Task
from agentstage.runtime.errors import NotFound
from agentstage.runtime.state.records import TERMINAL_STATUSES, Event, Record
from agentstage.runtime.streams import Entry, Op

__all__ = ["ActiveRun", "Batch", "Delivered", "Load", "Tick", "child_progress"]

_ADMIT_BATCH = 50
"""New runs admitted per read (measured: 200 was no faster, as the store groups the commits of batches queued
behind each other and a first attempt's task is published before its admission commits)."""
_RUN_ENDS = frozenset({"run.completed", "run.failed", "run.cancelled"})
_LINGER_FROM = 4
"""Unfinished runs from which the coordinator's readers linger after a partial read: below it runs come one or
two at a time, and a wait would only add to each run's latency."""


@dataclass(frozen=True, slots=True)
class Delivered:
    """Entries the coordinator's readers took from its streams."""

    entries: tuple[Entry, ...]
    redelivered: bool = False


@dataclass(frozen=True, slots=True)
class Tick:
    """Time to move due retries, reclaim expired leases and trim streams."""


@dataclass
class ActiveRun:
    """A run admitted and not yet ended: its current task and the last event seq seen."""

    task: Task
    last_seq: int
    claimed: bool = False
    worker_id: str = ""
    checkpoint: dict[str, Any] | None = None


class Load:
    """How busy the coordinator is, read by its stream readers to size their reads (any thread).

    A reader finding no room waits for a release (`on_release`), not for its poll interval: a burst
    fills the room in a few reads, and each such wait had stalled admission and results for 200 ms.
    """

    def __init__(self, max_active: int, max_in_process: int = 2000, linger: float = 0.0) -> None:
        self.max_active = max_active
        self.max_in_process = max_in_process
        self.linger_s = linger
        self.active = 0
        self.in_process = 0
        self._lock = threading.Lock()
        self._on_release: list[Callable[[], None]] = []

    def on_release(self, wake: Callable[[], None]) -> None:
        """Call `wake` whenever entries in process are released (a reader waiting for room reads again)."""
        self._on_release.append(wake)

    def reserve(self, count: int) -> None:
        with self._lock:
            self.in_process += count

    def release(self, count: int) -> None:
        with self._lock:
            self.in_process = max(self.in_process - count, 0)
        for wake in self._on_release:
            wake()

    def results_room(self) -> int:
        return max(min(self.max_in_process - self.in_process, 500), 0)

    def linger(self) -> float:
        """Seconds a reader waits after a partial read before the next: `linger_s` while at least `_LINGER_FROM`
        runs are unfinished, else 0.

        PERF: between burst and idle each read found one entry, so every run was read, decided, committed and
        acked alone (about 2.5x a burst's CPU per run); a few milliseconds' wait makes those batches again.
        """
        return self.linger_s if self.active >= _LINGER_FROM else 0.0

    def admit_room(self) -> int:
        """New runs to admit: bounded by `max_active` unfinished runs (backpressure on enqueuers)."""
        return max(min(self.max_active - self.active - self.in_process, self.results_room(), _ADMIT_BATCH), 0)


@dataclass
class Batch:
    """Records to commit, then Redis ops to apply, then `after` callbacks.

    `dispatch` ops are applied at once, before the commit: publishing a first attempt's task, which a
    replay publishes again under the same task id (workers claim a task id and attempt once).
    """

    records: list[Record] = dataclasses.field(default_factory=list)
    ops: list[Op] = dataclasses.field(default_factory=list)
    dispatch: list[Op] = dataclasses.field(default_factory=list)
    after: list[Callable[[], None]] = dataclasses.field(default_factory=list)
    ended: list[tuple[str, bytes, str]] = dataclasses.field(default_factory=list)
    """Runs this batch ends: (done key, outcome, run id), set and announced on the `ended` channel after `ops`."""


def child_progress(reader: Any, run_id: str, pending: list[Record]) -> dict[str, list[int]]:
    """The child agent runs of graph run `run_id`: id -> [last event seq, attempts], from the store and
    from `pending` records not committed yet (a retry is decided in the batch that records the failure)."""
    found: dict[str, list[int]] = {}
    for child, attempt in reader.children(run_id):
        seq = reader.get_run(child).last_seq
        while events := reader.events(child, after_seq=seq, limit=1000):
            seq = events[-1].seq
        found[child] = [seq, attempt]
    for record in pending:
        if isinstance(record, Event) and record.run_id.startswith(f"{run_id}."):
            seq, attempt = found.get(record.run_id, [0, 0])
            stated = record.data.get("attempt") if record.type in ("run.queued", "run.started") else None
            found[record.run_id] = [max(seq, record.seq), max(attempt, stated if isinstance(stated, int) else 0)]
    return found


def unfinished_children(reader: Any, run_id: str, pending: list[Record]) -> list[tuple[str, int, str]]:
    """The child runs of `run_id` that have not ended, from the store and `pending` records not committed yet:
    (id, last event seq, session id)."""
    ended = {r.run_id for r in pending if isinstance(r, Event) and r.type in _RUN_ENDS}
    sessions = {r.run_id: r.session_id for r in pending if isinstance(r, Event)}
    found = []
    for child, (seq, _) in child_progress(reader, run_id, pending).items():
        if child in ended:
            continue
        try:
            row = reader.get_run(child)
        except NotFound:
            found.append((child, seq, sessions.get(child, "")))
            continue
        if row.status not in TERMINAL_STATUSES:
            found.append((child, seq, row.session_id))
    return found
