"""WorkerMonitor's beat on a real Redis: leases of held tasks are extended, and only a held task whose
entry went elsewhere is stopped as lost; one that already reported its end was acked, not lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentstage.actors.heartbeat import WorkerMonitor
from agentstage.actors.worker import InFlight, WorkerState
from agentstage.runtime.streams import WORKERS_GROUP, StreamLayout
from agentstage.runtime.transport import RedisTransport
from agentstage.runtime.wire import Task, to_wire

LAYOUT = StreamLayout("beat")


@pytest.fixture
def transport(redis_url: str) -> Iterator[RedisTransport]:
    found = RedisTransport.from_url(redis_url)
    found.ensure_group(LAYOUT.tasks, WORKERS_GROUP)
    yield found
    found.close()


def _held(transport: RedisTransport, state: WorkerState, run_id: str) -> InFlight:
    """A task appended, read by this worker and held in its state."""
    task = Task(f"t-{run_id}", run_id, "s", "hi")
    transport.append(LAYOUT.tasks, to_wire(task))
    [(_, entry_id, _)] = transport.read_group(WORKERS_GROUP, state.worker_id, {LAYOUT.tasks: ">"}, 1, None)
    flight = InFlight(task, entry_id)
    state.start(flight)
    return flight


def test_a_held_task_whose_entry_was_acked_after_it_reported_its_end_is_not_lost(transport: RedisTransport) -> None:
    state = WorkerState("w1", 8)
    flight = _held(transport, state, "r1")
    state.report("r1", 1)
    transport.apply([("xack", LAYOUT.tasks, WORKERS_GROUP, flight.entry_id)])
    WorkerMonitor(transport, LAYOUT, state, 1.0).beat("running")
    assert state.get("r1", 1) is flight and not state.is_cancelled("r1", 1)


def test_a_held_task_whose_entry_was_reaped_before_it_ended_is_stopped_here(transport: RedisTransport) -> None:
    state = WorkerState("w1", 8)
    kept, reaped = _held(transport, state, "r1"), _held(transport, state, "r2")
    # NOTE: the reaper acks an expired entry in the batch that schedules the run's next attempt.
    transport.apply([("xack", LAYOUT.tasks, WORKERS_GROUP, reaped.entry_id)])
    WorkerMonitor(transport, LAYOUT, state, 1.0).beat("running")
    assert state.get("r1", 1) is kept and not state.is_cancelled("r1", 1)
    assert state.get("r2", 1) is None and state.is_cancelled("r2", 1)


def test_a_finished_attempt_forgets_that_it_reported(transport: RedisTransport) -> None:
    state = WorkerState("w1", 8)
    _held(transport, state, "r1")
    state.report("r1", 1)
    state.finish("r1", 1)
    assert state.reported == set() and state.running == {}
