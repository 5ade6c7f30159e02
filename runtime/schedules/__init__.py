"""Schedules: cron (5 fields, a time zone) or interval timings that start runs of an agent or a workflow.

    from agentstage.runtime.schedules import Firing, new_schedule

    system.write([new_schedule("nightly", cron="0 2 * * *", timezone="Europe/Paris", input="summarise")])
    Firing(system, run_control(system)).check()   # what the scheduler actor does every second
"""

from agentstage.runtime.schedules.definitions import DEFAULT_GRACE_S, enabled, new_schedule, record_of, retimed
from agentstage.runtime.schedules.firing import Due, Firing, due, next_tick, ts_of
from agentstage.runtime.schedules.timing import Timing, parse_timing

__all__ = ["DEFAULT_GRACE_S", "Due", "Firing", "Timing", "due", "enabled", "new_schedule", "next_tick",
           "parse_timing", "record_of", "retimed", "ts_of"]
