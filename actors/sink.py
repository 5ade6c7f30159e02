"""Run sinks: where an executing run's records go, and how its ending travels back.

An agent or graph writes its records with `tell(Write)` and is answered once they are durable.
In one process the sink is the StoreActor; on a worker it is `TaskStreamSink`, which sends each
`Write` to the coordinator as `TaskRecords` on the results stream, and the last one of a task's
run as `TaskDone` carrying the run's `RunOutcome`. Either way the caller's reply is settled
only when the records are safe (committed, or accepted by the transport).

Every message carries the attempt that produced it (the `Write`'s fence). An attempt this worker
no longer holds (its lease was lost, a later attempt superseded it, it was released) reports no
outcome and no events or checkpoints, only the tool effects it performed; the coordinator also
refuses anything but effects from an attempt that is not the run's current one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from agentstage.actors.bridge import Send
from agentstage.runtime.wire import RunOutcome, RunResult, TaskDone, TaskRecords, to_wire
from agentstage.actors.store import Write
from agentstage.actors.supervision import Slot
from agentstage.actors.worker import WorkerState
from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import retryable
from agentstage.runtime.state.records import Checkpoint, Event, ToolEffect
from agentstage.runtime.streams import StreamLayout

__all__ = ["RunSink", "TaskStreamSink", "run_outcome"]


class RunSink(Protocol):
    """Takes a run's records; `Write.reply` is settled (with `Write.result`) once they are durable."""

    def tell(self, message: Write) -> None: ...


def run_outcome(result: RunResult, ended_at: str = "") -> RunOutcome:
    """The outcome of an agent run; a failure is retryable when its error type says so."""
    failed = result.status == "failed"
    return RunOutcome(result.run_id, result.status, result.output if result.status == "completed" else None,
                      result.error, result.error_type, failed and retryable(result.error_type), ended_at or utc_now())


class TaskStreamSink:
    """A worker's run sink: records and endings go to the coordinator over the results stream."""

    def __init__(self, state: WorkerState, layout: StreamLayout, bridge: Slot,
                 on_done: Callable[[str, int], None]) -> None:
        self.state = state
        self.layout = layout
        self.bridge = bridge
        self.on_done = on_done

    def tell(self, message: Write) -> None:
        records = message.records
        result = message.result if isinstance(message.result, RunResult) else None
        run_id = records[0].run_id if records else result.run_id if result else ""
        fence_run, attempt = message.fence or (run_id, 0)
        flight = self.state.get(fence_run, attempt) if attempt else None
        events = tuple(r for r in records if isinstance(r, Event))
        effects = tuple(r for r in records if isinstance(r, ToolEffect))
        checkpoints = tuple(r for r in records if isinstance(r, Checkpoint))
        reply, value = message.reply, message.result
        own_end = result is not None and result.run_id == fence_run
        if flight is None and own_end:
            self.state.stopped(fence_run, attempt)
        if flight is None:
            # NOTE: an attempt this worker gave up (lease lost, superseded, released) records nothing more but the
            # effects it performed, so they are never repeated; the coordinator would refuse the rest anyway.
            settle = None if reply is None else lambda: reply.set(value)
            if effects:
                self._send(TaskRecords("", fence_run, attempt, self.state.worker_id, effects=effects), settle)
            elif settle is not None:
                settle()
            return
        if not own_end or flight.task.mode != "run":
            # NOTE: a graph's child runs travel under their parent's attempt.
            wire = TaskRecords(flight.task.task_id, fence_run, attempt, self.state.worker_id, events, effects,
                               checkpoints)
            self._send(wire, None if reply is None else lambda: reply.set(value))
            return
        task = flight.task
        done = TaskDone(task.task_id, fence_run, attempt, self.state.worker_id, flight.entry_id,
                        run_outcome(result), events, effects, checkpoints)

        def settled() -> None:
            if reply is not None:
                reply.set(value)
            self.on_done(fence_run, attempt)

        self.state.report(fence_run, attempt)
        self._send(done, settled)

    def effect(self, effect: ToolEffect) -> None:
        """Send a journalled tool effect to the coordinator's store as well (kept whatever attempt made it)."""
        self._send(TaskRecords("", effect.run_id, 0, self.state.worker_id, effects=(effect,)))

    def ended(self, outcome: RunOutcome, attempt: int) -> None:
        """Attempt `attempt` of a graph run held as a task ended (completed, failed or waiting): report it."""
        flight = self.state.get(outcome.run_id, attempt)
        if flight is None:
            self.state.stopped(outcome.run_id, attempt)
            return
        task = flight.task
        done = TaskDone(task.task_id, outcome.run_id, attempt, self.state.worker_id, flight.entry_id, outcome)
        self.state.report(outcome.run_id, attempt)
        self._send(done, lambda: self.on_done(outcome.run_id, attempt))

    def _send(self, message: Any, then: Callable[[], None] | None = None) -> None:
        self.bridge.tell(Send((("xadd", self.layout.results, to_wire(message), None),), then))
