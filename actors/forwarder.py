"""RecordForwarder: a worker agent's `store` — sends its Writes to the coordinator over the results stream.

On a worker nothing is written locally: each `Write` a RunLog makes becomes a `TaskRecords`
message, and the last one of a run (the one carrying the reply) a `TaskDone` that tells the
coordinator how the attempt ended. The reply is settled once Redis has accepted the message.
"""

from __future__ import annotations

from collections.abc import Callable

from loguru import logger

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
        if flight is None:
            logger.warning("dropping records of run {}: it is no longer in hand (released or cancelled)", run_id)
            if message.reply is not None:
                message.reply.set(message.result)
            return
        task = flight.task
        events = tuple(r for r in records if isinstance(r, Event))
        effects = tuple(r for r in records if isinstance(r, ToolEffect))
        checkpoints = tuple(r for r in records if isinstance(r, Checkpoint))
        if message.reply is None:
            wire = TaskRecords(task.task_id, run_id, task.attempt, self.state.worker_id, events, effects, checkpoints)
            self.bridge.tell(Send((("xadd", self.layout.results, to_wire(wire), None),)))
            return
        status = result.status if result is not None else "failed"
        error = result.error if result is not None else "run ended without a result"
        done = TaskDone(task.task_id, run_id, task.attempt, self.state.worker_id, flight.entry_id, status, error,
                        status == "failed" and _error_type(events) not in PERMANENT_ERRORS, events, effects,
                        checkpoints, utc_now())
        reply, value = message.reply, message.result

        def settled() -> None:
            reply.set(value)
            self.on_done(run_id)

        self.bridge.tell(Send((("xadd", self.layout.results, to_wire(done), None),), settled))

    def forward_effect(self, effect: ToolEffect) -> None:
        """Send a journalled tool effect to the coordinator's store as well."""
        flight = self.state.get(effect.run_id)
        if flight is None:
            return
        task = flight.task
        wire = TaskRecords(task.task_id, effect.run_id, task.attempt, self.state.worker_id, effects=(effect,))
        self.bridge.tell(Send((("xadd", self.layout.results, to_wire(wire), None),)))


def _error_type(events: tuple[Event, ...]) -> str:
    for event in reversed(events):
        if event.type == "run.failed":
            return str(event.data.get("error_type", ""))
    return ""
