"""RecordForwarder: a worker agent's `store` — sends its Writes to the coordinator over the results stream.

On a worker nothing is written locally: each `Write` a RunLog makes becomes a `TaskRecords`
message, and the last one of a run (the one carrying the reply) a `TaskDone` that tells the
coordinator how the attempt ended. The reply is settled once Redis has accepted the message.
"""

from __future__ import annotations

from collections.abc import Callable

from agentstage.actors.bridge import Send
from agentstage.actors.messages import RunResult, TaskDone, TaskRecords, to_wire
from agentstage.actors.store import Write
from agentstage.actors.supervision import Slot
from agentstage.actors.worker import WorkerState
from agentstage.runtime.clock import utc_now
from agentstage.runtime.state.records import Checkpoint, Event, ToolEffect
from agentstage.runtime.streams import StreamLayout

__all__ = ["PERMANENT_ERRORS", "RecordForwarder"]

PERMANENT_ERRORS = frozenset({
    "FatalError", "MaxIterationsExceeded", "RunAborted", "NotFound", "ToolArgumentsError", "ConfigError",
    "DecodeError",
})
"""Failures another attempt would only repeat; every other failure of a run is retried."""


class RecordForwarder:
    """Stands in for the StoreActor slot on a worker (same `tell(Write)` interface)."""

    def __init__(self, state: WorkerState, layout: StreamLayout, bridge: Slot,
                 on_done: Callable[[str], None]) -> None:
        self.state = state
        self.layout = layout
        self.bridge = bridge
        self.on_done = on_done

    def tell(self, message: Write) -> None:
        records = message.records
        result = message.result if isinstance(message.result, RunResult) else None
        run_id = records[0].run_id if records else result.run_id if result else ""
        flight = self.state.get(run_id)
        events = tuple(r for r in records if isinstance(r, Event))
        effects = tuple(r for r in records if isinstance(r, ToolEffect))
        checkpoints = tuple(r for r in records if isinstance(r, Checkpoint))
        if flight is None or result is None or flight.task.mode != "run":
            # NOTE: records of a run not held as a task (a graph's child agent run, a released run) go as
            # attempt 0: the coordinator keeps them unless the run has moved on to a newer attempt.
            task_id, attempt = (flight.task.task_id, flight.task.attempt) if flight is not None else ("", 0)
            wire = TaskRecords(task_id, run_id, attempt, self.state.worker_id, events, effects, checkpoints)
            reply, value = message.reply, message.result
            self.bridge.tell(Send((("xadd", self.layout.results, to_wire(wire), None),),
                                  None if reply is None else lambda: reply.set(value)))
            return
        task = flight.task
        done = TaskDone(task.task_id, run_id, task.attempt, self.state.worker_id, flight.entry_id, result.status,
                        result.error, result.status == "failed" and _error_type(events) not in PERMANENT_ERRORS,
                        events, effects, checkpoints, utc_now())
        reply, value = message.reply, message.result

        def settled() -> None:
            reply.set(value)
            self.on_done(run_id)

        self.bridge.tell(Send((("xadd", self.layout.results, to_wire(done), None),), settled))

    def forward_effect(self, effect: ToolEffect) -> None:
        """Send a journalled tool effect to the coordinator's store as well."""
        flight = self.state.get(effect.run_id)
        task_id, attempt = (flight.task.task_id, flight.task.attempt) if flight is not None else ("", 0)
        wire = TaskRecords(task_id, effect.run_id, attempt, self.state.worker_id, effects=(effect,))
        self.bridge.tell(Send((("xadd", self.layout.results, to_wire(wire), None),)))

    def graph_done(self, run_id: str, status: str, error: str | None, output: str | None = None) -> None:
        """A graph run held as a task ended (completed, failed or waiting for input): report it."""
        flight = self.state.get(run_id)
        if flight is None:
            return
        task = flight.task
        done = TaskDone(task.task_id, run_id, task.attempt, self.state.worker_id, flight.entry_id, status, error,
                        False, ended_at=utc_now(), output=output)
        self.bridge.tell(Send((("xadd", self.layout.results, to_wire(done), None),), lambda: self.on_done(run_id)))


def _error_type(events: tuple[Event, ...]) -> str:
    for event in reversed(events):
        if event.type == "run.failed":
            return str(event.data.get("error_type", ""))
    return ""
