"""SQLiteReader: filtered listings with keyset cursors, events after a seq, session history."""

from pathlib import Path

import pytest

from agentstage.runtime.errors import NotFound
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.records import Event
from agentstage.runtime.state.sqlite import SQLiteWriter


@pytest.fixture
def reader(tmp_path: Path) -> SQLiteReader:
    writer = SQLiteWriter(tmp_path / "state.db")
    records = []
    for i in range(7):
        ts = f"2026-01-01T00:00:{i:02d}.000Z"
        session = "even" if i % 2 == 0 else "odd"
        records.append(Event(f"r{i}", 1, "run.started", ts, session, {"input": f"q{i}", "kind": "agent"}))
        if i != 6:
            records.append(Event(f"r{i}", 2, "run.completed", ts, session, {"output": f"a{i}"}))
    writer.write(records)
    writer.close()
    return SQLiteReader(tmp_path / "state.db")


def test_keyset_pages_cover_every_run_once_newest_first(reader: SQLiteReader) -> None:
    seen, cursor = [], None
    while True:
        page = reader.list_runs(limit=3, cursor=cursor)
        seen += [row.run_id for row in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"r{i}" for i in range(6, -1, -1)]


def test_filters_by_status_and_session(reader: SQLiteReader) -> None:
    assert [r.run_id for r in reader.list_runs(status="running").items] == ["r6"]
    assert {r.run_id for r in reader.list_runs(session_id="odd").items} == {"r1", "r3", "r5"}


def test_a_malformed_cursor_is_a_value_error(reader: SQLiteReader) -> None:
    with pytest.raises(ValueError, match="cursor"):
        reader.list_runs(cursor="definitely-not-a-cursor")


def test_events_after_a_seq(reader: SQLiteReader) -> None:
    assert [e.seq for e in reader.events("r0", after_seq=1)] == [2]


def test_session_history_has_completed_turns_oldest_first(reader: SQLiteReader) -> None:
    history = reader.session_history("even")
    assert [m.content for m in history] == ["q0", "a0", "q2", "a2", "q4", "a4"]


def test_unknown_run_is_not_found(reader: SQLiteReader) -> None:
    with pytest.raises(NotFound):
        reader.get_run("missing")


def test_a_corrupt_row_is_a_store_error_naming_it(tmp_path: Path) -> None:
    import apsw

    from agentstage.runtime.errors import StoreError

    writer = SQLiteWriter(tmp_path / "state.db")
    writer.write([Event("r1", 1, "run.started", "2026-01-01T00:00:00.000Z", "s", {"input": "q"})])
    writer.close()
    raw = apsw.Connection(str(tmp_path / "state.db"))
    raw.execute("UPDATE events SET data = '{broken' WHERE run_id = 'r1'")
    raw.execute("UPDATE runs SET metadata = 'nope' WHERE run_id = 'r1'")
    raw.close()
    reader = SQLiteReader(tmp_path / "state.db")
    with pytest.raises(StoreError, match=r"corrupt events row \(r1, 1\)"):
        reader.events("r1")
    with pytest.raises(StoreError, match="corrupt runs row r1"):
        reader.get_run("r1")
