"""SQLiteWriter: migrations, idempotent records, atomic batches, the run projection, clear errors."""

from pathlib import Path

import apsw
import pytest

from agentstage.runtime.errors import StoreError, StoreLockedError
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.records import Checkpoint, Event, QueueEvent, RunAttempt, ToolEffect
from agentstage.runtime.state.schema import MIGRATIONS
from agentstage.runtime.state.sqlite import SQLiteWriter, open_connection

TABLES = {"sessions", "runs", "events", "checkpoints", "run_attempts", "worker_heartbeats", "queue_events",
          "tool_effects", "api_keys", "audit_log"}


def started(run_id: str = "r1", seq: int = 1, session: str = "s1") -> Event:
    return Event(run_id, seq, "run.started", f"2026-01-01T00:00:0{seq}.000Z", session,
                 {"input": "hello", "agent": "default", "kind": "agent"}, provider="scripted")


def test_migrates_an_empty_file_to_the_latest_version(tmp_path: Path) -> None:
    writer = SQLiteWriter(tmp_path / "state.db")
    connection = writer.connection
    assert connection.pragma("user_version") == len(MIGRATIONS)
    assert connection.pragma("journal_mode") == "wal"
    names = {row[0] for row in connection.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    assert TABLES <= names
    writer.close()
    again = SQLiteWriter(tmp_path / "state.db")
    assert again.connection.pragma("user_version") == len(MIGRATIONS)
    again.close()


def test_a_replayed_record_leaves_one_row(tmp_path: Path) -> None:
    writer = SQLiteWriter(tmp_path / "state.db")
    records = [started(), Event("r1", 2, "llm.response", "2026-01-01T00:00:02.000Z", "s1",
                                {"usage": {"input_tokens": 10, "output_tokens": 5}}),
               Checkpoint("r1", 1, "a", "b", {"x": 1}, "2026-01-01T00:00:02.000Z"),
               RunAttempt("r1", 1, "running", "2026-01-01T00:00:02.000Z", "t1", "w1"),
               QueueEvent("t1", 1, "enqueued", "2026-01-01T00:00:02.000Z", "r1"),
               ToolEffect("r1:1:c1", "r1", "send", {"ok": True}, "2026-01-01T00:00:02.000Z")]
    assert len(writer.write(records)) == 2
    assert writer.write(records) == []
    reader = SQLiteReader(tmp_path / "state.db")
    for table in ("events", "checkpoints", "run_attempts", "queue_events", "tool_effects", "runs", "sessions"):
        assert reader.count(table) == {"events": 2}.get(table, 1), table
    assert reader.get_run("r1").input_tokens == 10, "usage must not be added twice"


def test_a_bad_record_leaves_nothing_of_its_batch(tmp_path: Path) -> None:
    writer = SQLiteWriter(tmp_path / "state.db")
    with pytest.raises(TypeError):
        writer.write([started(), object()])
    assert SQLiteReader(tmp_path / "state.db").count("events") == 0


def test_run_projection_follows_events_and_ignores_stale_ones(tmp_path: Path) -> None:
    writer = SQLiteWriter(tmp_path / "state.db")
    writer.write([started(), Event("r1", 3, "run.completed", "2026-01-01T00:00:03.000Z", "s1", {"output": "done"})])
    writer.write([Event("r1", 2, "run.waiting", "2026-01-01T00:00:02.500Z", "s1")])
    run = SQLiteReader(tmp_path / "state.db").get_run("r1")
    assert (run.status, run.output, run.last_seq) == ("completed", "done", 3)
    assert run.ended_at == "2026-01-01T00:00:03.000Z"


def test_failed_run_keeps_its_error(tmp_path: Path) -> None:
    writer = SQLiteWriter(tmp_path / "state.db")
    writer.write([started(), Event("r1", 2, "run.failed", "2026-01-01T00:00:02.000Z", "s1", error="boom")])
    run = SQLiteReader(tmp_path / "state.db").get_run("r1")
    assert (run.status, run.error) == ("failed", "boom")


def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match="not a SQLite database"):
        SQLiteWriter(path)
    assert path.read_text().startswith("these are my notes")


def test_a_locked_database_is_reported_as_locked(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SQLiteWriter(path).close()
    holder = apsw.Connection(str(path))
    holder.execute("BEGIN IMMEDIATE")
    writer = SQLiteWriter(path, busy_timeout_ms=50)
    with pytest.raises(StoreLockedError, match="locked"):
        writer.write([started()])
    holder.execute("ROLLBACK")
    assert writer.write([started()]) and not writer.in_transaction


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    connection = apsw.Connection(str(path))
    connection.pragma("user_version", len(MIGRATIONS) + 1)
    connection.close()
    with pytest.raises(StoreError, match="newer"):
        open_connection(path)
