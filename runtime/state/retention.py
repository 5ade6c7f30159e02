"""Retention of the SQLite record: prune events and checkpoints of finished runs; table statistics.

Only runs whose status is completed, failed or cancelled are touched, and the status is checked
again inside each delete's transaction, so a run that is queued, running or waiting (or was
reopened by a new attempt) keeps everything it needs to resume. Run rows stay (listings, usage).
Work is done in small `BEGIN IMMEDIATE` transactions that wait out the store's writer with the
busy timeout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import apsw

from agentstage.runtime.state.records import TERMINAL_STATUSES
from agentstage.runtime.state.sqlite import store_errors

__all__ = ["PruneReport", "prune", "stats"]

_FINISHED = "status IN (" + ", ".join(f"'{s}'" for s in sorted(TERMINAL_STATUSES)) + ")"
_CHUNK = 200


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What a prune removed (or, with `dry_run`, would remove)."""

    runs: int
    events: int
    checkpoints: int
    dry_run: bool
    cutoff: str | None
    run_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "run_ids"}


def prune(
    connection: apsw.Connection,
    path: str,
    *,
    older_than_days: float | None = None,
    keep_checkpoints: int | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    on_chunk: Callable[[list[str]], None] | None = None,
) -> PruneReport:
    """Prune finished runs: all events and checkpoints of those that ended more than `older_than_days`
    ago, and checkpoints beyond the latest `keep_checkpoints` of every finished run.

    `on_chunk(run_ids)` is called after each committed chunk (the Hybrid store drops its copies).
    Raises ValueError for a negative limit, StoreError when the file cannot be written.
    """
    if older_than_days is not None and older_than_days < 0:
        raise ValueError("--older-than-days must not be negative")
    if keep_checkpoints is not None and keep_checkpoints < 0:
        raise ValueError("--keep-checkpoints must not be negative")
    cutoff = None
    if older_than_days is not None:
        moment = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
        cutoff = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    totals = [0, 0]
    touched: list[str] = []
    old: list[str] = []
    seen: set[str] = set()
    with store_errors(path):
        if cutoff is not None:
            old = _ids(connection, f"SELECT run_id FROM runs r WHERE {_FINISHED} AND coalesce(ended_at, updated_at) < ?"
                       " AND (EXISTS (SELECT 1 FROM events e WHERE e.run_id = r.run_id)"
                       " OR EXISTS (SELECT 1 FROM checkpoints c WHERE c.run_id = r.run_id)) ORDER BY run_id", (cutoff,))
            still_old = f"run_id IN (SELECT run_id FROM runs WHERE {_FINISHED} AND coalesce(ended_at, updated_at) < ?)"
            for chunk in _chunks(old):
                marks = ",".join("?" * len(chunk))
                counts = _apply(connection, dry_run, [
                    (f"events WHERE run_id IN ({marks}) AND {still_old}", (*chunk, cutoff)),
                    (f"checkpoints WHERE run_id IN ({marks}) AND {still_old}", (*chunk, cutoff)),
                ])
                totals = [totals[0] + counts[0], totals[1] + counts[1]]
                touched += chunk
                seen.update(chunk)
                if on_chunk is not None and not dry_run:
                    on_chunk(chunk)
        if keep_checkpoints is not None:
            crowded = _ids(connection, f"SELECT c.run_id FROM checkpoints c JOIN runs r ON r.run_id = c.run_id"
                           f" WHERE r.{_FINISHED} GROUP BY c.run_id HAVING count(*) > ? ORDER BY c.run_id",
                           (keep_checkpoints,))
            emptied = set(old)  # a dry run must not count these checkpoints twice
            crowded = [r for r in crowded if r not in emptied]
            for chunk in _chunks(crowded):
                marks = ",".join("?" * len(chunk))
                beyond = (f"checkpoints WHERE (run_id, step) IN (SELECT run_id, step FROM (SELECT c.run_id, c.step,"
                          f" row_number() OVER (PARTITION BY c.run_id ORDER BY c.step DESC) AS n FROM checkpoints c"
                          f" JOIN runs r ON r.run_id = c.run_id WHERE c.run_id IN ({marks}) AND r.{_FINISHED})"
                          f" WHERE n > ?)")
                totals[1] += _apply(connection, dry_run, [(beyond, (*chunk, keep_checkpoints))])[0]
                touched += [r for r in chunk if r not in seen]
                seen.update(chunk)
                if on_chunk is not None and not dry_run:
                    on_chunk(chunk)
    return PruneReport(len(touched), totals[0], totals[1], dry_run, cutoff, tuple(touched))


def stats(connection: apsw.Connection, path: str, *, top: int = 10) -> dict[str, Any]:
    """Rows and bytes (tables with their indexes) per table, file sizes, and the runs with most checkpoint bytes."""
    with store_errors(path):
        tables = [r[0] for r in connection.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        owner = dict(connection.execute("SELECT name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')"))
        sizes: dict[str, int] = {}
        for name, size in connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            sizes[table] = sizes.get(table, 0) + size
        page_size = connection.pragma("page_size")
        result: dict[str, Any] = {
            "path": path,
            "file_bytes": connection.pragma("page_count") * page_size,
            "free_bytes": connection.pragma("freelist_count") * page_size,
            "tables": {t: {"rows": connection.execute(f'SELECT count(*) FROM "{t}"').get, "bytes": sizes.get(t, 0)}
                       for t in tables},
        }
        result["checkpoint_bytes"] = {
            "total": connection.execute("SELECT coalesce(sum(state_bytes), 0) FROM checkpoints").get,
            "top_runs": [{"run_id": run_id, "checkpoints": n, "bytes": size} for run_id, n, size in connection.execute(
                "SELECT run_id, count(*), sum(state_bytes) AS b FROM checkpoints GROUP BY run_id"
                " ORDER BY b DESC, run_id LIMIT ?", (top,))],
        }
    return result


def _ids(connection: apsw.Connection, sql: str, params: tuple) -> list[str]:
    return [r[0] for r in connection.execute(sql, params)]


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _apply(connection: apsw.Connection, dry_run: bool, deletes: list[tuple[str, tuple]]) -> list[int]:
    """Count (dry run) or delete the rows of each `table WHERE ...` clause, in one immediate transaction."""
    counts = []
    connection.execute("BEGIN IMMEDIATE")
    try:
        for clause, params in deletes:
            if dry_run:
                counts.append(connection.execute(f"SELECT count(*) FROM {clause}", params).get)
            else:
                connection.execute(f"DELETE FROM {clause}", params)
                counts.append(connection.changes())
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("ROLLBACK" if dry_run else "COMMIT")
    return counts
