"""Read queries for stored schedules: all of them, one by name, one's firings (its history) newest first."""

from __future__ import annotations

import json
from typing import Any

from agentstage.runtime.errors import NotFound
from agentstage.runtime.state.sqlite import store_errors

__all__ = ["fire_row", "fires", "get_schedule", "last_scheduled_tick", "list_schedules", "started_count"]

_COLUMNS = ("name, cron, timezone, every_s, agent, workflow, input, enabled, grace_s, config, since, created_at,"
            " updated_at")
_FIRE_COLUMNS = "f.name, f.tick, f.trigger, f.owner, f.status, f.run_id, f.error, f.detail, f.claimed_at, f.updated_at"


def list_schedules(reader: Any) -> list[dict[str, Any]]:
    """Every schedule (Schedule fields), ordered by name."""
    if not hasattr(reader, "connection"):  # the Redis store answers from its own layout
        return [_plain(s) for s in reader.schedules()]
    with store_errors(reader.path):
        rows = list(reader.connection.execute(f"SELECT {_COLUMNS} FROM schedules ORDER BY name"))
    return [_row(r) for r in rows]


def get_schedule(reader: Any, name: str) -> dict[str, Any]:
    """One schedule; raises NotFound("schedule", name)."""
    if not hasattr(reader, "connection"):
        found = next((s for s in reader.schedules() if s["name"] == name), None)
        if found is None:
            raise NotFound("schedule", name)
        return _plain(found)
    with store_errors(reader.path):
        rows = list(reader.connection.execute(f"SELECT {_COLUMNS} FROM schedules WHERE name = ?", (name,)))
    if not rows:
        raise NotFound("schedule", name)
    return _row(rows[0])


def fires(reader: Any, name: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """A schedule's firings newest first, each with its run as stored (`run`: status, output, error, ended_at;
    None before the run is stored)."""
    if not hasattr(reader, "connection"):
        found = sorted(reader.schedule_fires(name), key=lambda f: (f["claimed_at"], f["tick"]), reverse=True)[:limit]
        return [{**f, "run": _run(reader, f["run_id"])} for f in found]
    with store_errors(reader.path):
        rows = list(reader.connection.execute(
            f"SELECT {_FIRE_COLUMNS}, r.status, r.output, r.error, r.ended_at FROM schedule_fires f"
            " LEFT JOIN runs r ON r.run_id = f.run_id"
            " WHERE f.name = ? ORDER BY f.claimed_at DESC, f.tick DESC LIMIT ?", (name, limit)))
    return [_fire(r[:10], None if r[10] is None else dict(zip(("status", "output", "error", "ended_at"), r[10:])))
            for r in rows]


def fire_row(reader: Any, name: str, tick: str) -> dict[str, Any] | None:
    """The firing of `name` at `tick` as stored (who owns it, how it went), or None."""
    if not hasattr(reader, "connection"):
        return next((f for f in reader.schedule_fires(name) if f["tick"] == tick), None)
    with store_errors(reader.path):
        rows = list(reader.connection.execute(
            f"SELECT {_FIRE_COLUMNS} FROM schedule_fires f WHERE f.name = ? AND f.tick = ?", (name, tick)))
    return _fire(rows[0], None) if rows else None


def last_scheduled_tick(reader: Any, name: str) -> str | None:
    """The latest tick the scheduler claimed for `name` (fired or skipped), or None; manual triggers do not count."""
    if not hasattr(reader, "connection"):
        ticks = [f["tick"] for f in reader.schedule_fires(name) if f["trigger"] == "schedule"]
        return max(ticks, default=None)
    with store_errors(reader.path):
        rows = list(reader.connection.execute(
            "SELECT max(tick) FROM schedule_fires WHERE name = ? AND trigger = 'schedule'", (name,)))
    return rows[0][0] if rows else None


def started_count(reader: Any, name: str) -> int:
    """How many firings of `name` started a run."""
    if not hasattr(reader, "connection"):
        return sum(1 for f in reader.schedule_fires(name) if f["run_id"])
    with store_errors(reader.path):
        rows = list(reader.connection.execute(
            "SELECT count(*) FROM schedule_fires WHERE name = ? AND run_id != ''", (name,)))
    return rows[0][0]


def _run(reader: Any, run_id: str) -> dict[str, Any] | None:
    if not run_id:
        return None
    try:
        row = reader.get_run(run_id)
    except NotFound:
        return None
    return {"status": row.status, "output": row.output, "error": row.error, "ended_at": row.ended_at}


def _plain(stored: dict[str, Any]) -> dict[str, Any]:
    return {k: stored[k] for k in ("name", "cron", "timezone", "every_s", "agent", "workflow", "input", "enabled",
                                   "grace_s", "config", "since", "created_at", "updated_at")}


def _row(row: tuple) -> dict[str, Any]:
    (name, cron, timezone, every_s, agent, workflow, input, enabled, grace_s, config, since, created, updated) = row
    return {"name": name, "cron": cron, "timezone": timezone, "every_s": every_s, "agent": agent,
            "workflow": workflow, "input": input, "enabled": bool(enabled), "grace_s": grace_s,
            "config": json.loads(config), "since": since, "created_at": created, "updated_at": updated}


def _fire(row: tuple, run: dict[str, Any] | None) -> dict[str, Any]:
    (name, tick, trigger, owner, status, run_id, error, detail, claimed, updated) = row
    return {"name": name, "tick": tick, "trigger": trigger, "owner": owner, "status": status, "run_id": run_id,
            "error": error, "detail": json.loads(detail), "claimed_at": claimed, "ts": updated,
            "run": run}
