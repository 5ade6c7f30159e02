"""When a schedule fires: a 5-field cron expression in an IANA time zone, or a fixed interval from its start.

Cron expressions are evaluated by cronsim in the schedule's zone (zoneinfo), so `0 9 * * *` in
Europe/Paris is 09:00 Paris time in winter and summer. Across DST changes cronsim follows
cron's habits: a time that does not exist (skipped by the spring change) fires at the first
moment after the gap, a time that happens twice (the autumn change) fires once. Intervals are
plain elapsed seconds from `since` and ignore zones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from agentstage.runtime.errors import InvalidArgument

__all__ = ["MAX_COUNTED", "Timing", "parse_timing"]

MAX_COUNTED = 1000
"""Missed ticks are counted up to this many (a schedule of every minute down for a week would count 10,080)."""

_MIN_EVERY_S = 1.0
_MAX_EVERY_S = 366 * 86400.0


@dataclass(frozen=True, slots=True)
class Timing:
    """A checked schedule timing: `cron` in `zone`, or every `every_s` seconds."""

    cron: str | None
    zone: ZoneInfo
    every_s: float | None

    def latest(self, since: datetime, now: datetime) -> datetime | None:
        """The latest tick after `since` and at or before `now` (UTC), or None when there is none yet."""
        if now <= since:
            return None
        if self.every_s is not None:
            steps = math.floor((now - since).total_seconds() / self.every_s)
            return since + timedelta(seconds=steps * self.every_s) if steps >= 1 else None
        tick = next(CronSim(self.cron, (now + timedelta(microseconds=1)).astimezone(self.zone), reverse=True))
        tick = tick.astimezone(UTC)
        return tick if tick > since else None

    def next_after(self, since: datetime, after: datetime) -> datetime:
        """The first tick of a schedule counting from `since` that comes strictly after `after` (UTC)."""
        if self.every_s is None:
            return next(CronSim(self.cron, max(since, after).astimezone(self.zone))).astimezone(UTC)
        if after < since:
            return since + timedelta(seconds=self.every_s)
        steps = math.floor((after - since).total_seconds() / self.every_s) + 1
        return since + timedelta(seconds=steps * self.every_s)

    def count_between(self, start: datetime, end: datetime) -> int:
        """How many ticks lie strictly between `start` and `end` (counted up to MAX_COUNTED)."""
        if end <= start:
            return 0
        if self.every_s is not None:
            # NOTE: interval ticks from one start are evenly spaced, so the count is a division.
            return max(0, min(MAX_COUNTED, math.ceil((end - start).total_seconds() / self.every_s) - 1))
        counted = 0
        for tick in CronSim(self.cron, start.astimezone(self.zone)):
            if tick.astimezone(UTC) >= end or counted >= MAX_COUNTED:
                break
            counted += 1
        return counted


def parse_timing(cron: str | None, timezone: str = "UTC", every_s: float | None = None) -> Timing:
    """Check a schedule's timing: exactly one of a 5-field `cron` or `every_s` seconds, and a known zone.

    Raises InvalidArgument naming `cron`, `every_s` or `timezone` with the reason.
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidArgument("timezone", f"unknown time zone {timezone!r} (an IANA name such as Europe/Paris)"
                              ) from None
    if (cron is None) == (every_s is None):
        raise InvalidArgument("cron", "give either a cron expression or an interval (every_s), not both or neither")
    if every_s is not None:
        if not math.isfinite(every_s) or not _MIN_EVERY_S <= every_s <= _MAX_EVERY_S:
            raise InvalidArgument("every_s", f"expected {_MIN_EVERY_S:g} to {_MAX_EVERY_S:g} seconds, got {every_s!r}")
        return Timing(None, zone, float(every_s))
    fields = cron.split()
    if len(fields) != 5:
        raise InvalidArgument("cron", f"expected 5 fields (minute hour day-of-month month day-of-week), got "
                                      f"{len(fields)} in {cron!r}")
    expr = " ".join(fields).upper()
    try:
        next(CronSim(expr, datetime(2000, 1, 1, tzinfo=zone)))
    except (CronSimError, StopIteration) as exc:
        raise InvalidArgument("cron", f"{exc or 'never fires'} in {cron!r}") from None
    return Timing(expr, zone, None)
