"""Retention: prune finished runs' events and checkpoints, never an unfinished run's; table statistics."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentstage.runtime.errors import StoreLockedError
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.records import Event
from agentstage.runtime.state.retention import prune, stats
from agentstage.runtime.state.sqlite import SQLiteWriter, open_connection
from tests.runtime.state.conftest import checkpoint, completed, started

NOW = datetime(2026, 3, 1, tzinfo=UTC)
RECENT = "2026-02-28T12:00:00.000Z"


def build(path: Path) -> None:
    writer = SQLiteWriter(path)
    writer.write([
        started("old-done"), completed("old-done"), *(checkpoint("old-done", s) for s in range(1, 4)),
        started("old-failed", session="s2"), Event("old-failed", 2, "run.failed", "2026-01-01T00:00:05.000Z", "s2",
                                                   error="boom"), *(checkpoint("old-failed", s) for s in range(1, 4)),
        started("old-waiting"), Event("old-waiting", 2, "run.waiting", "2026-01-01T00:00:06.000Z", "s1"),
        *(checkpoint("old-waiting", s) for s in range(1, 5)),
        started("old-running"), checkpoint("old-running", 1),
        started("new-done"), Event("new-done", 2, "run.completed", RECENT, "s1", {"output": "x"}),
        *(checkpoint("new-done", s) for s in range(1, 4)),
    ])
    writer.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    build(tmp_path / "state.db")
    return tmp_path / "state.db"


def counts(path: Path, run_id: str) -> tuple[int, int]:
    reader = SQLiteReader(path)
    try:
        return len(reader.events(run_id)), len(reader.checkpoints(run_id))
    finally:
        reader.close()


def run_prune(path: Path, **policy: object):
    connection = open_connection(path)
    try:
        return prune(connection, str(path), now=NOW, **policy)
    finally:
        connection.close()


def test_old_finished_runs_lose_events_and_checkpoints_but_keep_their_row(db: Path) -> None:
    report = run_prune(db, older_than_days=30)
    assert (report.runs, report.events, report.checkpoints) == (2, 4, 6)
    assert counts(db, "old-done") == counts(db, "old-failed") == (0, 0)
    assert counts(db, "old-waiting") == (2, 4)
    assert counts(db, "old-running") == (1, 1)
    assert counts(db, "new-done") == (2, 3)
    reader = SQLiteReader(db)
    assert reader.get_run("old-done").status == "completed"
    assert reader.checkpoint("old-waiting")["step"] == 4
    reader.close()
    assert run_prune(db, older_than_days=30).runs == 0


def test_keep_checkpoints_trims_finished_runs_only(db: Path) -> None:
    report = run_prune(db, keep_checkpoints=1)
    assert (report.runs, report.checkpoints, report.events) == (3, 6, 0)
    assert [c["step"] for c in SQLiteReader(db).checkpoints("new-done")] == [3]
    assert counts(db, "old-waiting") == (2, 4)


def test_a_dry_run_counts_and_deletes_nothing(db: Path) -> None:
    report = run_prune(db, older_than_days=30, keep_checkpoints=0, dry_run=True)
    assert report.dry_run and (report.events, report.checkpoints) == (4, 9)
    assert counts(db, "old-done") == (2, 3)


def test_a_run_reopened_by_a_new_attempt_is_not_pruned(db: Path) -> None:
    writer = SQLiteWriter(db)
    writer.write([started("old-failed", seq=3, session="s2", attempt=2)])
    writer.close()
    assert run_prune(db, older_than_days=30, keep_checkpoints=0).runs == 2
    assert counts(db, "old-failed") == (3, 3)


def test_negative_limits_are_refused(db: Path) -> None:
    with pytest.raises(ValueError, match="keep-checkpoints"):
        run_prune(db, keep_checkpoints=-1)


def test_prune_waits_for_the_writer_then_reports_the_lock(db: Path) -> None:
    holder = SQLiteWriter(db)
    holder.begin()
    connection = open_connection(db, busy_timeout_ms=50)
    try:
        with pytest.raises(StoreLockedError):
            prune(connection, str(db), older_than_days=30, now=NOW)
    finally:
        connection.close()
        holder.rollback()
        holder.close()
    assert counts(db, "old-done") == (2, 3)


def test_stats_count_rows_and_bytes_per_table(db: Path) -> None:
    connection = open_connection(db, readonly=True)
    result = stats(connection, str(db), top=2)
    connection.close()
    assert result["tables"]["runs"]["rows"] == 5
    assert result["tables"]["checkpoints"]["rows"] == 14
    assert result["tables"]["events"]["bytes"] > 0
    assert result["file_bytes"] > 0
    assert len(result["checkpoint_bytes"]["top_runs"]) == 2
    assert result["checkpoint_bytes"]["top_runs"][0]["run_id"] == "old-waiting"
    assert result["checkpoint_bytes"]["total"] == sum(len('{"step":%d}' % s) for s in (1, 2, 3) * 3 + (1, 2, 3, 4, 1))
