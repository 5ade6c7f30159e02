"""Run sinks: a worker's TaskStreamSink sends records and one typed outcome over a MemoryTransport."""

from __future__ import annotations

import pykka

from agentstage.actors.bridge import BridgeActor
from agentstage.runtime.wire import RunResult, Task, TaskDone, TaskRecords, from_wire
from agentstage.actors.sink import TaskStreamSink, run_outcome
from agentstage.actors.store import Write
from agentstage.actors.supervision import Slot
from agentstage.actors.worker import InFlight, WorkerState
from agentstage.runtime.state.records import Event, ToolEffect
from agentstage.runtime.streams import StreamLayout
from agentstage.runtime.transport import MemoryTransport


def _failed(error_type: str) -> RunResult:
    event = Event("r1", 3, "run.failed", "2026-01-01T00:00:00.000Z", "s1", {"error_type": error_type}, error="boom")
    return RunResult("r1", "s1", "failed", error="boom", events=(event,), error_type=error_type)


def test_outcome_of_a_failed_run_is_retryable_as_its_error_type_says():
    assert run_outcome(_failed("TransientError")).retryable
    assert run_outcome(_failed("RuntimeError")).retryable
    assert not run_outcome(_failed("FatalError")).retryable
    completed = run_outcome(RunResult("r1", "s1", "completed", "42"))
    assert (completed.status, completed.output, completed.retryable) == ("completed", "42", False)
    assert run_outcome(RunResult("r1", "s1", "cancelled", "partial")).output is None


def test_a_task_runs_records_go_as_task_records_and_its_last_write_as_one_task_done():
    transport, layout = MemoryTransport(), StreamLayout("p")
    state = WorkerState("w1", 2)
    state.start(InFlight(Task("t1", "r1", "s1", "hi"), "1-0"))
    bridge = Slot("bridge", lambda slot: BridgeActor.start(transport, slot))
    finished: list[tuple[str, int]] = []
    sink = TaskStreamSink(state, layout, bridge, lambda *attempt: finished.append(attempt))
    try:
        step = Event("r1", 1, "run.started", "2026-01-01T00:00:00.000Z", "s1")
        sink.tell(Write((step,), fence=("r1", 1)))
        reply: pykka.ThreadingFuture = pykka.ThreadingFuture()
        result = _failed("FatalError")
        sink.tell(Write(result.events, reply, result, ("r1", 1)))
        assert reply.get(timeout=5) is result
    finally:
        bridge.stop()
    sent = [from_wire(fields[b"m"]) for _, fields in transport.entries(layout.results)]
    assert [type(m) for m in sent] == [TaskRecords, TaskDone]
    done = sent[1]
    assert (done.task_id, done.attempt, done.entry_id) == ("t1", 1, "1-0")
    assert (done.outcome.status, done.outcome.error_type, done.outcome.retryable) == ("failed", "FatalError", False)
    assert finished == [("r1", 1)]


def test_a_superseded_attempt_reports_no_outcome_only_its_effects_under_its_own_attempt():
    transport, layout = MemoryTransport(), StreamLayout("p")
    state = WorkerState("w1", 2)
    state.start(InFlight(Task("t1", "r1", "s1", "hi", attempt=1), "1-0"))
    state.start(InFlight(Task("t1", "r1", "s1", "hi", attempt=2), "2-0"))
    state.abandon("r1", 1)
    bridge = Slot("bridge", lambda slot: BridgeActor.start(transport, slot))
    finished: list[tuple[str, int]] = []
    sink = TaskStreamSink(state, layout, bridge, lambda *attempt: finished.append(attempt))
    effect = ToolEffect("r1:1:c1", "r1", "tally", {"tallied": "a"}, "2026-01-01T00:00:00.000Z")
    try:
        sink.tell(Write((Event("r1", 3, "tool.result", "2026-01-01T00:00:00.000Z", "s1"), effect), fence=("r1", 1)))
        reply: pykka.ThreadingFuture = pykka.ThreadingFuture()
        result = RunResult("r1", "s1", "completed", "late", events=(
            Event("r1", 4, "run.completed", "2026-01-01T00:00:00.000Z", "s1"),))
        sink.tell(Write(result.events, reply, result, ("r1", 1)))
        assert reply.get(timeout=5) is result
    finally:
        bridge.stop()
    [sent] = [from_wire(fields[b"m"]) for _, fields in transport.entries(layout.results)]
    assert (type(sent), sent.attempt, sent.events, sent.effects) == (TaskRecords, 1, (), (effect,))
    assert finished == [] and not state.is_cancelled("r1", 1) and state.get("r1", 2) is not None
