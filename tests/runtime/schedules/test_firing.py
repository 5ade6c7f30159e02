"""Firing on real Systems and store files, the clock driven by the test: one run per due tick, exactly once
with two schedulers on one store, the missed-tick policy after downtime, takeover of a dead owner's claim."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from agentstage.runtime import System
from agentstage.runtime.control import LocalControl
from agentstage.runtime.schedules import Firing, enabled, new_schedule, ts_of
from agentstage.runtime.state.records import ScheduleFire
from agentstage.runtime.state.schedules import fires, get_schedule

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    """The time the test says it is."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def firing(system: System, clock: Clock, owner: str = "a", **options: float) -> Firing:
    return Firing(system, LocalControl(system), owner=owner, clock=clock, **options)


def add(system: System, name: str = "s", **options: object) -> None:
    options.setdefault("cron", "*/5 * * * *")
    system.write([new_schedule(name, input="hello", now=ts_of(START), **options)])


def test_a_due_tick_starts_one_run_marked_with_its_schedule(system: System) -> None:
    clock = Clock()
    add(system)
    scheduler = firing(system, clock)
    assert scheduler.check() == []
    clock.advance(minutes=5, seconds=1)
    [fired] = scheduler.check()
    assert (fired["status"], fired["tick"], fired["trigger"]) == ("started", "2026-03-01T12:05:00.000Z", "schedule")
    assert scheduler.check() == []
    run = system.reader().get_run(fired["run_id"])
    assert run.metadata["schedule"] == "s" and run.input == "hello"
    assert [f["run_id"] for f in fires(system.reader(), "s")] == [fired["run_id"]]


@pytest.fixture(params=["sqlite", "redis"])
def store_config(request, config):
    """The test's Config on the SQLite file, or on the suite's redis-server (state only in Redis)."""
    if request.param == "sqlite":
        return config
    return config.replace(state="redis", redis_url=request.getfixturevalue("redis_url"))


def checked_at_once(schedulers: list[Firing]) -> list[dict]:
    """Every scheduler's `check`, released together from one barrier on threads of their own; all their firings."""
    barrier, started = threading.Barrier(len(schedulers)), []

    def check(scheduler: Firing) -> None:
        barrier.wait()
        started.extend(scheduler.check())

    threads = [threading.Thread(target=check, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return started


def test_two_schedulers_on_one_store_fire_each_tick_exactly_once(store_config) -> None:
    clock = Clock()
    with System(store_config) as one, System(store_config) as two:
        add(one, every_s=60.0, cron=None)
        schedulers = [firing(one, clock, "one"), firing(two, clock, "two")]
        started: list[dict] = []
        for _ in range(4):
            clock.advance(seconds=60)
            started += checked_at_once(schedulers)
        history = fires(one.reader(), "s")
    assert len(started) == 4 == len(history)
    assert sorted(f["tick"] for f in started) == sorted(f["tick"] for f in history)
    assert len({f["run_id"] for f in history}) == 4
    assert all(f["status"] == "started" for f in history)


def test_after_downtime_the_latest_missed_tick_fires_once_within_the_grace(system: System) -> None:
    clock = Clock()
    add(system, grace_s=300.0)
    scheduler = firing(system, clock)
    clock.advance(minutes=5)
    assert len(scheduler.check()) == 1
    clock.advance(minutes=27)  # down from 12:05 to 12:32: ticks 12:10 ... 12:30 were missed
    [fired] = scheduler.check()
    assert (fired["tick"], fired["status"], fired["detail"]["missed"]) == ("2026-03-01T12:30:00.000Z", "started", 4)
    assert scheduler.check() == []


def test_after_downtime_past_the_grace_the_tick_is_skipped_and_nothing_runs(system: System) -> None:
    clock = Clock()
    add(system, cron="0 * * * *", grace_s=60.0)
    scheduler = firing(system, clock)
    clock.advance(hours=3, minutes=10)  # 15:00 is the latest tick, ten minutes late
    [skipped] = scheduler.check()
    assert (skipped["tick"], skipped["status"], skipped["run_id"]) == ("2026-03-01T15:00:00.000Z", "skipped", "")
    assert skipped["detail"]["missed"] == 2 and "past the grace" in skipped["detail"]["reason"]
    assert system.reader().list_runs().items == []
    clock.advance(minutes=50)
    assert [f["status"] for f in scheduler.check()] == ["started"]


def test_ticks_while_disabled_are_not_missed_ticks(system: System) -> None:
    clock = Clock()
    add(system)
    scheduler = firing(system, clock)
    system.write([enabled(get_schedule(system.reader(), "s"), False, now=ts_of(clock()))])
    clock.advance(minutes=12)
    assert scheduler.check() == []
    system.write([enabled(get_schedule(system.reader(), "s"), True, now=ts_of(clock()))])
    assert scheduler.check() == []
    clock.advance(minutes=3)
    assert [f["tick"] for f in scheduler.check()] == ["2026-03-01T12:15:00.000Z"]


def test_a_manual_trigger_runs_a_disabled_schedule_now(system: System) -> None:
    clock = Clock()
    add(system, enabled=False)
    fired = firing(system, clock).trigger("s")
    assert (fired["trigger"], fired["status"]) == ("manual", "started")
    assert system.reader().get_run(fired["run_id"]).metadata["trigger"] == "manual"


def test_a_claim_whose_owner_died_before_starting_is_taken_over_once(store_config) -> None:
    clock = Clock()
    with System(store_config) as system, System(store_config) as other:
        add(system)
        clock.advance(minutes=5)
        system.write([ScheduleFire("s", "2026-03-01T12:05:00.000Z", "schedule", "dead", "claimed", ts_of(clock()))])
        schedulers = [firing(system, clock, "a", lease_s=30.0), firing(other, clock, "b", lease_s=30.0)]
        assert [s.check() for s in schedulers] == [[], []], "the claim is not stale yet"
        clock.advance(seconds=31)
        [fired] = checked_at_once(schedulers)
        assert (fired["status"], fired["detail"]["taken_over_from"]) == ("started", "dead")
        assert [s.check() for s in schedulers] == [[], []]
        [row] = fires(system.reader(), "s")
        assert (row["owner"], row["status"], row["run_id"]) == (fired["owner"], "started", fired["run_id"])
        assert len(system.reader().list_runs().items) == 1


def test_a_schedule_of_an_unknown_agent_records_its_firing_failed(system: System) -> None:
    clock = Clock()
    add(system, agent="nobody")
    clock.advance(minutes=5)
    [failed] = firing(system, clock).check()
    assert failed["status"] == "failed" and "nobody" in failed["error"]
