"""The run projection in Python: what `SQLiteWriter._project` does in SQL, for stores without SQL.

A run row is a function of its events: `run.queued`/`run.started` create or refresh it, later
status events move it only when their `seq` is newer, `USAGE_EVENTS` add token usage.
"""

from __future__ import annotations

from typing import Any

from agentstage.runtime.state.records import TERMINAL_STATUSES, USAGE_EVENTS, Event

__all__ = ["MAX_ANCESTORS", "RUN_STATUS_BY_EVENT", "add_usage", "parent_of", "project_run", "project_session"]

MAX_ANCESTORS = 32
"""Ancestors a run's tokens roll up to, at most (a guard against a cycle of parent links)."""

RUN_STATUS_BY_EVENT = {
    "run.queued": "queued",
    "run.started": "running",
    "run.waiting": "waiting",
    "run.resumed": "running",
    "run.completed": "completed",
    "run.failed": "failed",
    "run.cancelled": "cancelled",
}

_CREATING = ("run.queued", "run.started")


def project_run(row: dict[str, Any] | None, e: Event) -> dict[str, Any] | None:
    """The run row after event `e` (a new dict), or None when `e` cannot create a missing run."""
    status = RUN_STATUS_BY_EVENT.get(e.type)
    if e.type in _CREATING:
        d = e.data
        fresh = {
            "run_id": e.run_id, "session_id": e.session_id, "kind": d.get("kind", "agent"), "agent": d.get("agent"),
            "workflow": d.get("workflow"), "provider": e.provider, "model": d.get("model"), "status": status,
            "input": d.get("input", ""), "output": None, "error": None, "input_tokens": 0, "output_tokens": 0,
            "attempt": d.get("attempt", 1), "worker_id": d.get("worker_id"), "parent_run_id": d.get("parent_run_id"),
            "metadata": d.get("metadata", {}), "last_seq": e.seq, "created_at": e.ts,
            "started_at": e.ts if status == "running" else None, "updated_at": e.ts, "ended_at": None,
        }
        if row is None:
            return fresh
        newer = row["last_seq"] < e.seq
        row = dict(row)
        row.update(
            status=status if newer else row["status"],
            last_seq=max(row["last_seq"], e.seq),
            provider=_coalesce(fresh["provider"], row["provider"]),
            model=_coalesce(fresh["model"], row["model"]),
            attempt=max(row["attempt"], fresh["attempt"]),
            worker_id=_coalesce(fresh["worker_id"], row["worker_id"]),
            started_at=_coalesce(row["started_at"], fresh["started_at"]),
            ended_at=None if newer else row["ended_at"],
            error=None if newer else row["error"],
            updated_at=e.ts,
        )
        return row
    if row is None:
        return None
    row = add_usage(row, e) if e.type in USAGE_EVENTS else dict(row)
    if status is None or row["last_seq"] >= e.seq:
        return row
    row.update(
        status=status, last_seq=e.seq, updated_at=e.ts,
        output=_coalesce(e.data.get("output"), row["output"]),
        error=None if status == "running" else _coalesce(e.error, row["error"]),
        ended_at=e.ts if status in TERMINAL_STATUSES else None,
    )
    return row


def parent_of(e: Event) -> str | None:
    """The run a usage event of a child run also counts for (its graph run), if any."""
    parent = e.data.get("parent_run_id") if e.type in USAGE_EVENTS else None
    return parent if isinstance(parent, str) and parent and parent != e.run_id else None


def add_usage(row: dict[str, Any], e: Event) -> dict[str, Any]:
    """`row` (a new dict) with the tokens of usage event `e` added."""
    usage = e.data.get("usage") or {}
    return {**row, "input_tokens": row["input_tokens"] + int(usage.get("input_tokens") or 0),
            "output_tokens": row["output_tokens"] + int(usage.get("output_tokens") or 0)}


def project_session(row: dict[str, Any] | None, e: Event) -> dict[str, Any] | None:
    """The session row after event `e`; only run-creating events touch sessions."""
    if e.type not in _CREATING:
        return row
    if row is None:
        return {"session_id": e.session_id, "created_at": e.ts, "updated_at": e.ts}
    return {**row, "updated_at": e.ts}


def _coalesce(first: Any, second: Any) -> Any:
    return first if first is not None else second
