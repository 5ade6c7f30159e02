"""AdminReader: run listings both ways with keyset cursors, metrics, keys, audit paging."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentstage.runtime.errors import NotFound
from agentstage.runtime.state import ApiKey, AuditEntry, Event, SQLiteWriter
from agentstage.runtime.state.admin import AdminReader


@pytest.fixture
def store(tmp_path: Path) -> tuple[SQLiteWriter, AdminReader]:
    writer = SQLiteWriter(tmp_path / "s.db")
    reader = AdminReader(tmp_path / "s.db")
    yield writer, reader
    reader.close()
    writer.close()


def _run(run_id: str, second: int, status: str = "run.completed", provider: str = "p1") -> list[Event]:
    start = f"2030-01-01T00:00:{second:02d}.000Z"
    end = f"2030-01-01T00:00:{second:02d}.{100 * (second + 1):03d}Z"
    return [Event(run_id, 1, "run.started", start, "s", {"input": "x"}, provider=provider),
            Event(run_id, 2, "llm.response", start, "s", {"usage": {"input_tokens": 3, "output_tokens": 2}}),
            Event(run_id, 3, status, end, "s", {})]


def test_runs_page_walks_both_directions_with_cursors(store) -> None:
    writer, reader = store
    writer.write([e for n in range(5) for e in _run(f"r{n}", n)])
    pages, cursor = [], None
    while True:
        page = reader.runs_page(filters={}, limit=2, cursor=cursor, order="asc")
        pages.append([r.run_id for r in page.items])
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == [["r0", "r1"], ["r2", "r3"], ["r4"]]
    assert [r.run_id for r in reader.runs_page(filters={}, limit=2).items] == ["r4", "r3"]
    with pytest.raises(ValueError):
        reader.runs_page(filters={"input": "x"})
    with pytest.raises(ValueError):
        reader.runs_page(filters={}, cursor="bogus")


def test_metrics_summary_counts_statuses_percentiles_and_tokens(store) -> None:
    writer, reader = store
    writer.write([*_run("a", 0), *_run("b", 1, "run.failed"), *_run("c", 2, provider="p2")])
    summary = reader.metrics_summary()
    assert summary["runs"] == 3 and summary["by_status"] == {"completed": 2, "failed": 1}
    assert summary["duration_ms_p50"] == pytest.approx(200, abs=1)
    assert summary["duration_ms_p95"] == pytest.approx(300, abs=1)
    assert {t["provider"]: t["total_tokens"] for t in summary["tokens"]} == {"p1": 10, "p2": 5}
    assert reader.metrics_summary("2031-01-01T00:00:00.000Z")["runs"] == 0


def test_keys_and_audit(store) -> None:
    writer, reader = store
    key = ApiKey("k1", "ags_12345678", "hash", "viewer", "n", "2030-01-01T00:00:00.000Z")
    writer.write([key, *(AuditEntry(f"a{n}", f"2030-01-01T00:00:0{n}.000Z", "x", "ok", "k1") for n in range(3))])
    assert reader.api_key("k1") == key and reader.api_keys_with_prefix("ags_12345678") == [key]
    with pytest.raises(NotFound):
        reader.api_key("k2")
    first = reader.audit(limit=2)
    assert [e.id for e in first.items] == ["a2", "a1"]
    assert [e.id for e in reader.audit(limit=2, cursor=first.next_cursor).items] == ["a0"]
    assert reader.audit(outcome="denied").items == []


def test_session_last_seq_and_recent_events(store) -> None:
    writer, reader = store
    writer.write(_run("a", 0))
    assert reader.session("s")["runs"] == 1 and reader.last_seq("a") == 3 and reader.last_seq("zz") == 0
    assert [e.seq for e in reader.recent_events(run_id="a", limit=2)] == [2, 3]
    assert reader.event("a", 2).type == "llm.response" and reader.event("a", 9) is None
