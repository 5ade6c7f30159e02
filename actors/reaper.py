"""The coordinator's periodic work: move due retries, reclaim expired leases, trim streams.

Runs on the coordinator's thread at each `Tick`, so it sees the coordinator's in-memory view
of active runs without locks. Retries live in a sorted set scored by due time, so they survive
coordinator restarts; a due retry of a cancelled run ends the run instead of starting it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from loguru import logger

from agentstage.actors.bridge import dead_letter, decode_entry
from agentstage.actors.coordination import ActiveRun, Batch
from agentstage.runtime.wire import RunOutcome, Task, from_wire, to_wire
from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import DecodeError, NotFound, StoreError
from agentstage.runtime.state.records import Event, QueueEvent
from agentstage.runtime.streams import COORDINATOR_GROUP, WORKERS_GROUP, StreamLayout, dlq_fields
from agentstage.runtime.transport import UNAVAILABLE, Refused, StreamTransport

if TYPE_CHECKING:
    from agentstage.actors.coordinator import CoordinatorActor

__all__ = ["Reaper"]

_TRIM_EVERY = 5.0
_REAPER = "reaper"


class Reaper:
    """Periodic duties of one coordinator; `tick` is called on the coordinator's thread."""

    def __init__(self, transport: StreamTransport, layout: StreamLayout, lease: float,
                 max_bytes: int | None = None) -> None:
        self.transport = transport
        self.layout = layout
        self.max_bytes = max_bytes
        self.lease_ms = max(int(lease * 1000), 1)
        self.reap_every = max(lease / 4, 0.2)
        self._last_reap = 0.0
        self._last_trim = time.monotonic()
        self._moving: set[bytes] = set()

    def tick(self, coordinator: CoordinatorActor) -> None:
        try:
            self.move_due(coordinator)
            now = time.monotonic()
            if now - self._last_reap >= self.reap_every:
                self._last_reap = now
                self.reap(coordinator)
            if now - self._last_trim >= _TRIM_EVERY:
                self._last_trim = now
                self.trim()
        except UNAVAILABLE as exc:
            logger.warning("coordinator tick: stream server unavailable ({}); will retry", exc)
        except Refused as exc:  # NOTE: a refused command must not crash the coordinator at every tick
            logger.error("coordinator tick: redis refused a command ({}); will retry", exc)

    def move_due(self, coordinator: CoordinatorActor) -> None:
        """Publish retries whose time has come; end the cancelled ones instead."""
        due = [m for m in self.transport.due(self.layout.delayed, time.time(), 500) if m not in self._moving]
        if not due:
            return
        tasks = []
        for member in due:
            try:
                task = from_wire(member, self.max_bytes)
                if not isinstance(task, Task):
                    raise DecodeError("type", f"expected a task, got {type(task).__name__}")
            except DecodeError as exc:
                self.transport.apply([("zrem", self.layout.delayed, member), ("dlq", self.layout.dlq, dlq_fields(
                    stream=self.layout.delayed, entry_id="", raw=member, reason=str(exc)))])
                continue
            tasks.append((member, task))
        cancels = self.transport.apply([("exists", self.layout.cancel_key(t.run_id)) for _, t in tasks], atomic=False)
        batch = Batch()
        for (member, task), cancelled in zip(tasks, cancels):
            if not cancelled:
                self.transport.apply([("zrem", self.layout.delayed, member),
                                      ("xadd", self.layout.tasks, to_wire(task), None)])
                continue
            now = utc_now()
            self._moving.add(member)
            batch.records.append(Event(task.run_id, task.first_seq, "run.cancelled", now, task.session_id,
                                       {"reason": "cancelled while waiting for a retry", "attempt": task.attempt}))
            batch.records.append(QueueEvent(task.task_id, task.attempt, "cancelled", now, task.run_id))
            batch.ops.append(("zrem", self.layout.delayed, member))
            coordinator._finish(RunOutcome(task.run_id, "cancelled", ended_at=now), batch)
            batch.after.append(lambda member=member: self._moving.discard(member))
        if batch.records:
            coordinator.submit(batch, 0)

    def reap(self, coordinator: CoordinatorActor) -> None:
        """Reclaim task entries idle past the lease (their worker died) and retry them."""
        start = "0-0"
        batch = Batch()
        while True:
            start, claimed = self.transport.autoclaim(self.layout.tasks, WORKERS_GROUP, _REAPER, self.lease_ms, start,
                                                      100)
            for entry_id, payload in claimed:
                self._reclaimed(coordinator, entry_id, payload, batch)
            if start == "0-0":
                break
        if batch.ops:
            coordinator.submit(batch, 0)

    def _reclaimed(self, coordinator: CoordinatorActor, entry_id: str, payload: bytes | None, batch: Batch) -> None:
        entry = decode_entry(self.layout.tasks, entry_id, payload, self.max_bytes)
        if entry is None:
            batch.ops.append(("xack", self.layout.tasks, WORKERS_GROUP, entry_id))
            return
        task = entry.message
        if entry.error is not None or not isinstance(task, Task):
            reason = entry.error or f"not a task: {type(task).__name__}"
            batch.ops.extend(dead_letter(self.layout.dlq, entry, WORKERS_GROUP, reason))
            return
        run = coordinator.active.get(task.run_id)
        if run is None:
            if task.run_id in coordinator.finishing:
                return
            if self.transport.exists(self.layout.done_key(task.run_id)) or _ended(coordinator, task):
                batch.ops.append(("xack", self.layout.tasks, WORKERS_GROUP, entry_id))
                return
            # NOTE: unknown after a coordinator restart: the reclaimed task itself is the best record of it.
            run = coordinator.active[task.run_id] = ActiveRun(task, coordinator._stored_last_seq(task.run_id))
        if run.task.attempt != task.attempt:
            batch.ops.append(("xack", self.layout.tasks, WORKERS_GROUP, entry_id))
            return
        logger.warning("lease of run {} attempt {} expired (worker {}); retrying", task.run_id, task.attempt,
                       run.worker_id or "unknown")
        coordinator.retry(task, entry_id, run.worker_id, f"lease expired on worker {run.worker_id or 'unknown'}",
                          batch)

    def trim(self) -> None:
        """Drop entries every consumer is done with."""
        self.transport.trim_consumed(self.layout.tasks, WORKERS_GROUP)
        for stream in (self.layout.results, self.layout.admit):
            self.transport.trim_consumed(stream, COORDINATOR_GROUP)


def _ended(coordinator: CoordinatorActor, task: Task) -> bool:
    """Whether the store holds `task`'s run as ended at its attempt or a later one (Redis may have lost the
    done key and the ack of an end the store has: a restart that lost its last writes)."""
    try:
        row = coordinator.reader().get_run(task.run_id)
    except (NotFound, StoreError):
        return False
    return row.status in ("completed", "failed", "cancelled") and row.attempt >= task.attempt
