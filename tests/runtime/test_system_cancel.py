"""System.cancel: a local run stops at its next step boundary and ends cancelled."""

from __future__ import annotations

from agentstage.runtime import System
from tests.runtime.distributed import worker_app
from tests.runtime.distributed.harness import wait_for


def test_cancel_stops_a_local_run_at_a_step_boundary(config):
    setup = worker_app.setup()
    with System(config, agents=setup.agents, tools=setup.tools, providers=setup.providers) as system:
        handle = system.run_async("nap 50", agent="slow")
        wait_for(lambda: any(e["type"] == "tool.result" for e in system.events(handle.run_id)))
        system.cancel(handle.run_id)
        result = handle.result(30)
        events = system.events(handle.run_id)
        status = system.get_run(handle.run_id).status
    assert (result.status, status) == ("cancelled", "cancelled")
    assert events[-1]["type"] == "run.cancelled"
