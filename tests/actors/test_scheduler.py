"""SchedulerActor on a real System: it checks on its own timer, fires a due tick once, and a System runs one."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from agentstage.runtime import System
from agentstage.runtime.control import LocalControl
from agentstage.runtime.state.schedules import fires
from tests.runtime.schedules.test_firing import START, Clock, add, firing


def test_the_scheduler_fires_due_ticks_on_its_own_timer(config) -> None:
    clock = Clock(START + timedelta(minutes=5))
    with System(config.replace(scheduler_poll=0.05)) as system:
        add(system)
        done = threading.Event()
        scheduler = firing(system, clock)
        check = scheduler.check

        def observed() -> list[dict]:
            fired = check()
            if fired:
                done.set()
            return fired

        scheduler.check = observed  # type: ignore[method-assign]
        system.start_scheduler(LocalControl(system), firing=scheduler)
        assert done.wait(30)
        with pytest.raises(RuntimeError):
            system.start_scheduler(LocalControl(system))
        assert [f["status"] for f in fires(system.reader(), "s")] == ["started"]
