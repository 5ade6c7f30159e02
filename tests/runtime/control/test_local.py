"""LocalControl over an embedded System: the same checks and answers as the queued mode, no queues."""

from __future__ import annotations

import json

import pytest

from agentstage.runtime import System
from agentstage.runtime.clock import utc_now
from agentstage.runtime.control import LocalControl
from agentstage.runtime.errors import InvalidArgument, NotApplicable, NotFound, Refused
from agentstage.runtime.state import Event
from tests.runtime.distributed import worker_app
from tests.runtime.distributed.harness import wait_for


def _status(system: System, run_id: str) -> str | None:
    try:
        return system.get_run(run_id).status
    except NotFound:
        return None


def test_start_checks_its_target_and_a_chosen_id(system) -> None:
    control = LocalControl(system)
    started = control.start("calculate 2 + 3", run_id="mine")
    assert (started.run_id, started.status) == ("mine", "started")
    with pytest.raises(Refused, match="exists") as taken:
        control.start("again", run_id="mine")
    assert taken.value.field == "run_id"
    with pytest.raises(InvalidArgument, match="unknown agent"):
        control.start("x", agent="nobody")
    with pytest.raises(InvalidArgument, match="unknown workflow"):
        control.start("x", workflow="nothing")


def test_a_waiting_graph_run_is_answered_then_forked(system) -> None:
    control = LocalControl(system)
    started = control.start("calculate", workflow="ask")
    assert control.wait(started.run_id, 30).status == "waiting"
    with pytest.raises(InvalidArgument, match="waits for input"):
        control.resume(started.run_id)
    assert control.resume(started.run_id, "6 * 7").status == "resumed"
    wait_for(lambda: _status(system, started.run_id) == "completed")
    assert json.loads(system.get_run(started.run_id).output)["result"] == 42
    forked = control.fork(started.run_id, 1, {"expression": "1 + 1"})
    assert json.loads(control.wait(forked.run_id, 30).output)["result"] == 2
    assert control.wait("never-started", 0.2) is None
    with pytest.raises(InvalidArgument, match="no checkpoint at step 99"):
        control.fork(started.run_id, 99)


def test_a_waiting_graph_run_is_cancelled_at_once_and_requeued_as_attempt_two(system) -> None:
    control = LocalControl(system)
    started = control.start("calculate", workflow="ask")
    wait_for(lambda: _status(system, started.run_id) == "waiting")
    assert control.cancel(started.run_id, "no answer").status == "cancelled"
    assert _status(system, started.run_id) == "cancelled"
    with pytest.raises(Refused, match="already cancelled"):
        control.cancel(started.run_id)
    requeued = control.requeue(started.run_id)
    assert (requeued.status, requeued.attempt) == ("requeued", 2)
    wait_for(lambda: _status(system, started.run_id) == "waiting")
    assert system.get_run(started.run_id).attempt == 2


def test_a_failed_agent_run_is_requeued_and_completes(system) -> None:
    now = utc_now()
    system.write([Event("failed", 1, "run.started", now, "s", {"input": "calculate 2 + 3", "agent": "default"}),
                  Event("failed", 2, "run.failed", now, "s", error="boom")])
    control = LocalControl(system)
    control.start("calculate 1 + 1", run_id="fine")
    wait_for(lambda: _status(system, "fine") == "completed")
    with pytest.raises(Refused, match="only failed or cancelled"):
        control.requeue("fine")
    assert control.requeue("failed").attempt == 2
    wait_for(lambda: _status(system, "failed") == "completed")
    types = [e.type for e in system.events("failed")]
    assert types[:3] == ["run.started", "run.failed", "run.queued"] and types[-1] == "run.completed"
    with pytest.raises(NotFound):
        control.requeue("no-such-run")


def test_a_cancelled_agent_run_is_requeued_although_it_was_cancelled_here(config) -> None:
    setup = worker_app.setup()
    with System(config, agents=setup.agents, tools=setup.tools, providers=setup.providers) as system:
        control = LocalControl(system)
        started = control.start("nap 50", agent="slow")
        wait_for(lambda: any(e.type == "tool.result" for e in system.events(started.run_id)))
        assert control.cancel(started.run_id).status == "cancelling"
        wait_for(lambda: _status(system, started.run_id) == "cancelled")
        control.requeue(started.run_id)
        wait_for(lambda: _status(system, started.run_id) in ("completed", "failed"), timeout=60)
        events = system.events(started.run_id)
        requeued = [e.seq for e in events if e.type == "run.queued"][-1]
        assert any(e.type == "tool.result" and e.seq > requeued for e in events)


def test_queues_and_the_dlq_do_not_apply(system) -> None:
    control = LocalControl(system)
    assert control.capabilities() == {"mode": "local", "queues": False, "dlq": False}
    for call in (control.queues, control.details, control.dlq_list, control.dlq_purge,
                 lambda: control.dlq_show("1-0"), lambda: control.dlq_requeue("1-0")):
        with pytest.raises(NotApplicable, match="not queued in local mode"):
            call()
    assert control.workers() == []
