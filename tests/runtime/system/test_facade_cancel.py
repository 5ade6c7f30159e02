"""System.cancel: a local run stops at its next step boundary and ends cancelled."""

from __future__ import annotations

from agentstage.runtime import System
from agentstage.runtime.errors import NotFound
from tests.runtime.distributed import worker_app
from tests.runtime.distributed.harness import wait_for


def test_cancel_stops_a_local_run_at_a_step_boundary(config):
    setup = worker_app.setup()
    with System(config, agents=setup.agents, tools=setup.tools, providers=setup.providers) as system:
        handle = system.run_async("nap 50", agent="slow")
        wait_for(lambda: any(e.type == "tool.result" for e in system.events(handle.run_id)))
        system.cancel(handle.run_id)
        result = handle.result(30)
        events = system.events(handle.run_id)
        status = system.get_run(handle.run_id).status
    assert (result.status, status) == ("cancelled", "cancelled")
    assert events[-1].type == "run.cancelled"


def test_cancel_of_a_run_waiting_for_admission_ends_it_at_once(config):
    setup = worker_app.setup()
    limited = config.replace(max_runs="1")
    with System(limited, agents=setup.agents, tools=setup.tools, providers=setup.providers) as system:
        busy = system.run_async("nap 5000", agent="napper")
        waiting = system.run_async("nap 10", agent="napper")
        wait_for(lambda: _status(system, waiting.run_id) == "queued")
        system.cancel(waiting.run_id)
        result = waiting.result(30)
        status = system.get_run(waiting.run_id).status
        types = [e.type for e in system.events(waiting.run_id)]
        still = system.get_run(busy.run_id).status
        system.cancel(busy.run_id)
    assert (result.status, status, still) == ("cancelled", "cancelled", "running")
    assert types == ["run.queued", "run.cancelled"]


def _status(system, run_id):
    try:
        return system.get_run(run_id).status
    except NotFound:
        return None
