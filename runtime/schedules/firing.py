"""Firing schedules: which tick is due (the missed-tick policy), the per-tick lease, the run it starts.

Missed-tick policy (after downtime, or while no scheduler ran): ticks are coalesced. At each check
the latest tick at or before now that was not yet claimed is the one considered; earlier unclaimed
ticks are never run (their count is kept as `missed` on the firing). That tick fires when it is at
most `grace_s` late (default 300 s); older, it is recorded `skipped` and nothing runs. This is
APScheduler's `coalesce` with `misfire_grace_time`, Kubernetes CronJob's `startingDeadlineSeconds`.

Exactly once per tick: every scheduler claims a tick by writing its `ScheduleFire` row; the store
keeps the first writer's (SQLite: first insert in the writer's IMMEDIATE transaction; Redis: a
compare-and-set script), and only the owner read back starts the run. A claim whose owner did not
record a start within `lease_s` is taken over, by one scheduler (the same compare-and-set); the run
id is derived from the schedule and the tick, so a takeover after a start that was not recorded is
refused as a duplicate run.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from agentstage.runtime._log import logger
from agentstage.runtime.clock import new_id, parse_ts, short_id
from agentstage.runtime.errors import AgentstageError, Refused
from agentstage.runtime.schedules.timing import parse_timing
from agentstage.runtime.state.records import ScheduleFire
from agentstage.runtime.state.schedules import fire_row, get_schedule, last_scheduled_tick, list_schedules

if TYPE_CHECKING:
    from agentstage.runtime.control import RunControl
    from agentstage.runtime.system import System

__all__ = ["Due", "Firing", "due", "next_tick", "ts_of"]

Clock = Callable[[], datetime]
_RUN_IDS = uuid.UUID("6c1f6d5e-2f36-4c49-9d47-6a4c3b0e7a11")


def ts_of(moment: datetime) -> str:
    """`moment` in the store's time stamp format (UTC, milliseconds)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Due:
    """The tick a schedule should act on now: fire it, or record it skipped (`fire` False, too late)."""

    tick: datetime
    fire: bool
    missed: int
    late_s: float


def due(schedule: dict[str, Any], last_tick: str | None, now: datetime) -> Due | None:
    """What `schedule` (a stored row) should do at `now`, given its latest claimed tick; None when nothing."""
    timing = parse_timing(schedule["cron"], schedule["timezone"], schedule["every_s"])
    since = parse_ts(schedule["since"])
    base = max(since, parse_ts(last_tick)) if last_tick else since
    tick = timing.latest(since, now)
    if tick is None or tick <= base:
        return None
    late = (now - tick).total_seconds()
    return Due(tick, late <= schedule["grace_s"], timing.count_between(base, tick), round(late, 3))


def next_tick(schedule: dict[str, Any], last_tick: str | None, now: datetime) -> datetime | None:
    """When `schedule` fires next (None while disabled)."""
    if not schedule["enabled"]:
        return None
    timing = parse_timing(schedule["cron"], schedule["timezone"], schedule["every_s"])
    return timing.next_after(parse_ts(schedule["since"]), now)


class Firing:
    """Fires the schedules of `system`'s store through `control`: the scheduler actor's checks, manual triggers.

    `owner` names this scheduler in the claims it writes (host:pid:random by default); `clock` gives
    the current time (tests drive it); `lease_s` is how long a claim may stay unstarted before another
    scheduler takes the tick over. Methods block on store writes and the run start: call them off an
    event loop.
    """

    def __init__(self, system: System, control: RunControl, *, owner: str | None = None, lease_s: float = 60.0,
                 clock: Clock | None = None) -> None:
        self.system = system
        self.control = control
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{short_id()}"
        self.lease_s = lease_s
        self.clock = clock or (lambda: datetime.now(UTC))

    def check(self) -> list[dict[str, Any]]:
        """One pass over the enabled schedules: claim each due tick, start the runs whose lease this owner holds.

        Returns the firings this owner recorded (started, failed or skipped).
        """
        reader = self.system.reader()
        recorded = []
        for schedule in list_schedules(reader):
            if not schedule["enabled"]:
                continue
            try:
                fired = self._check_one(reader, schedule)
            except AgentstageError as exc:
                logger.warning("schedule {}: check failed: {}", schedule["name"], exc)
                continue
            if fired is not None:
                recorded.append(fired)
        return recorded

    def trigger(self, name: str, *, before: Callable[[], None] | None = None) -> dict[str, Any]:
        """Start a run of schedule `name` now, enabled or not; returns the firing. Raises NotFound."""
        schedule = get_schedule(self.system.reader(), name)
        if before is not None:
            before()
        now = self.clock()
        fire = ScheduleFire(name, ts_of(now), "manual", self.owner, "claimed", ts_of(now))
        self.system.write((fire,))
        return self._start(schedule, fire, new_id())

    def _check_one(self, reader: Any, schedule: dict[str, Any]) -> dict[str, Any] | None:
        name, now = schedule["name"], self.clock()
        last = last_scheduled_tick(reader, name)
        found = due(schedule, last, now)
        if found is None:
            return self._take_over(reader, schedule, last, now) if last else None
        tick = ts_of(found.tick)
        detail = {"missed": found.missed, "late_s": found.late_s}
        if not found.fire:
            detail["reason"] = f"{found.late_s:g} s late, past the grace of {schedule['grace_s']:g} s"
        claim = ScheduleFire(name, tick, "schedule", self.owner, "claimed" if found.fire else "skipped",
                             ts_of(now), detail=detail)
        self.system.write((claim,))
        row = fire_row(self.system.reader(), name, tick)
        if row is None or row["owner"] != self.owner:
            return None
        if not found.fire:
            logger.info("schedule {}: tick {} skipped ({})", name, tick, detail["reason"])
            return row
        return self._start(schedule, claim, self._run_id(schedule, tick))

    def _take_over(self, reader: Any, schedule: dict[str, Any], tick: str, now: datetime) -> dict[str, Any] | None:
        """Fire the latest tick again when its owner claimed it and never recorded a start (it died)."""
        row = fire_row(reader, schedule["name"], tick)
        if row is None or row["status"] != "claimed" or row["owner"] == self.owner:
            return None
        stale = now - timedelta(seconds=self.lease_s)
        if parse_ts(row["ts"]) >= stale or (now - parse_ts(tick)).total_seconds() > schedule["grace_s"]:
            return None
        claim = ScheduleFire(schedule["name"], tick, "schedule", self.owner, "claimed", ts_of(now),
                             detail={**row["detail"], "taken_over_from": row["owner"]}, steal_before=ts_of(stale))
        self.system.write((claim,))
        owned = fire_row(self.system.reader(), schedule["name"], tick)
        if owned is None or owned["owner"] != self.owner:
            return None
        logger.warning("schedule {}: took over tick {} from {}, which claimed it and never started its run",
                       schedule["name"], tick, row["owner"])
        return self._start(schedule, dataclasses.replace(claim, steal_before=""), self._run_id(schedule, tick))

    def _start(self, schedule: dict[str, Any], claim: ScheduleFire, run_id: str) -> dict[str, Any]:
        name = schedule["name"]
        metadata = {"schedule": name, "tick": claim.tick, "trigger": claim.trigger}
        try:
            started = self.control.start(schedule["input"], agent=schedule["agent"], workflow=schedule["workflow"],
                                         metadata=metadata, run_id=run_id)
            outcome = dataclasses.replace(claim, status="started", run_id=started.run_id, ts=ts_of(self.clock()))
        except Refused as exc:
            if exc.field != "run_id":
                outcome = dataclasses.replace(claim, status="failed", error=str(exc), ts=ts_of(self.clock()))
            else:  # NOTE: the run of this tick exists: a previous owner started it before it died
                outcome = dataclasses.replace(claim, status="started", run_id=run_id, ts=ts_of(self.clock()))
        except AgentstageError as exc:
            outcome = dataclasses.replace(claim, status="failed", error=str(exc), ts=ts_of(self.clock()))
        self.system.write((outcome,))
        logger.bind(run_id=outcome.run_id).info("schedule {}: {} tick {} {}", name, claim.trigger, claim.tick,
                                                outcome.status)
        return {**{k: v for k, v in dataclasses.asdict(outcome).items() if k != "steal_before"}, "claimed_at": claim.ts}

    @staticmethod
    def _run_id(schedule: dict[str, Any], tick: str) -> str:
        return uuid.uuid5(_RUN_IDS, f"{schedule['name']}|{schedule['created_at']}|{tick}").hex
