"""Schedule definitions: checked before they are stored, changed by writing a new version of the record."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import InvalidArgument
from agentstage.runtime.schedules.timing import parse_timing
from agentstage.runtime.state.records import Schedule

__all__ = ["DEFAULT_GRACE_S", "MAX_GRACE_S", "enabled", "new_schedule", "record_of", "retimed"]

DEFAULT_GRACE_S = 300.0
"""How late a tick may still fire (after downtime); an older missed tick is recorded as skipped."""
MAX_GRACE_S = 7 * 86400.0

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_MAX_INPUT = 100_000


def new_schedule(name: str, *, cron: str | None = None, every_s: float | None = None, timezone: str = "UTC",
                 agent: str = "default", workflow: str | None = None, input: str = "",
                 grace_s: float = DEFAULT_GRACE_S, enabled: bool = True, config: Mapping[str, Any] | None = None,
                 now: str | None = None) -> Schedule:
    """A new schedule record, checked; raises InvalidArgument naming the field (name, cron, every_s, timezone,
    grace_s, input)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidArgument("name", "1-100 letters, digits, '.', '_' or '-', starting with a letter or digit")
    timing = parse_timing(cron, timezone, every_s)
    if not isinstance(grace_s, (int, float)) or not math.isfinite(grace_s) or not 0 <= grace_s <= MAX_GRACE_S:
        raise InvalidArgument("grace_s", f"expected 0 to {MAX_GRACE_S:g} seconds, got {grace_s!r}")
    if len(input) > _MAX_INPUT:
        raise InvalidArgument("input", f"at most {_MAX_INPUT} characters")
    if not agent:
        raise InvalidArgument("agent", "an agent name is required")
    now = now or utc_now()
    return Schedule(name=name, agent=agent, input=input, enabled=enabled, since=now, created_at=now, updated_at=now,
                    cron=timing.cron, timezone=timezone, every_s=timing.every_s, workflow=workflow or None,
                    grace_s=float(grace_s), config=dict(config or {}))


def record_of(row: Mapping[str, Any]) -> Schedule:
    """The record of a stored schedule row (from `runtime.state.schedules`)."""
    return Schedule(**{f.name: row[f.name] for f in dataclasses.fields(Schedule) if f.name in row})


def enabled(row: Mapping[str, Any], on: bool, *, now: str | None = None) -> Schedule:
    """The schedule switched on or off; switching it on counts ticks from now (ticks while off are not missed)."""
    now = now or utc_now()
    current = record_of(row)
    if current.enabled == on:
        return current
    return dataclasses.replace(current, enabled=on, updated_at=now, since=now if on else current.since)


def retimed(row: Mapping[str, Any], *, now: str | None = None, **changes: Any) -> Schedule:
    """The schedule with `changes` applied and checked again; a new timing counts ticks from now."""
    now = now or utc_now()
    current = record_of(row)
    merged = {**dataclasses.asdict(current), **changes}
    checked = new_schedule(current.name, cron=merged["cron"], every_s=merged["every_s"], timezone=merged["timezone"],
                           agent=merged["agent"], workflow=merged["workflow"], input=merged["input"],
                           grace_s=merged["grace_s"], enabled=merged["enabled"], config=merged["config"], now=now)
    timing_changed = any(merged[k] != getattr(current, k) for k in ("cron", "every_s", "timezone"))
    return dataclasses.replace(checked, created_at=current.created_at,
                               since=now if timing_changed or (merged["enabled"] and not current.enabled)
                               else current.since)
