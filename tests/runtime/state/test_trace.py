"""Trace queries: one run's trace and the aggregates, the same on every backend (SQL or scan)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentstage.runtime.errors import NotFound
from agentstage.runtime.state import trace
from agentstage.runtime.state.base import StoreReader
from agentstage.runtime.state.factory import StateBackend
from agentstage.runtime.state.records import Event
from tests.runtime.state.conftest import started, ts


def llm(run_id: str, seq: int, provider: str, tokens: tuple[int, int]) -> Event:
    return Event(run_id, seq, "llm.response", ts(seq), "s1",
                 {"usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]}}, provider=provider,
                 duration_ms=12.5)


def tool_result(run_id: str, seq: int, tool: str, *, error: str | None = None, status: str = "completed") -> Event:
    return Event(run_id, seq, "tool.result", ts(seq), "s1", {"status": status}, tool=tool, error=error)


def ended(run_id: str, seq: int, kind: str, second: int) -> Event:
    return Event(run_id, seq, f"run.{kind}", ts(second), "s1", {"output": "x"} if kind == "completed" else {},
                 error="boom" if kind == "failed" else None)


@pytest.fixture
def reader(backend: StateBackend) -> Iterator[StoreReader]:
    writer = backend.writer()
    writer.write([
        started("a"), llm("a", 2, "openai", (10, 5)), Event("a", 3, "tool.call", ts(3), "s1", {}, tool="http"),
        tool_result("a", 4, "http", error="timeout"), llm("a", 5, "openai", (4, 1)), ended("a", 6, "completed", 1),
        started("b", second=2), llm("b", 2, "anthropic", (7, 7)), tool_result("b", 3, "calc"),
        tool_result("b", 7, "http", status="failed"), ended("b", 8, "failed", 6),
        Event("b", 9, "llm.retry", ts(9), "s1", {"attempt": 1, "usage": {"input_tokens": 2, "output_tokens": 1}},
              provider="anthropic"),
        started("c", second=3), ended("c", 2, "completed", 5),
        started("d", second=4),
    ])
    writer.close()
    reader = backend.reader()
    yield reader
    reader.close()


def test_a_run_trace_classifies_every_step(reader: StoreReader) -> None:
    run = trace.run_trace(reader, "a")
    assert run.run.status == "completed"
    assert [(s.kind, s.status) for s in run.steps] == [
        ("run", "started"), ("llm", "completed"), ("tool", "started"), ("tool", "failed"), ("llm", "completed"),
        ("run", "completed")]
    assert (run.llm_calls, run.tool_calls, run.tool_failures) == (2, 1, 1)
    assert (run.steps[1].provider, run.steps[1].input_tokens, run.steps[1].duration_ms) == ("openai", 10, 12.5)
    with pytest.raises(NotFound):
        trace.run_trace(reader, "missing")


def test_runs_per_status_in_a_window(reader: StoreReader) -> None:
    assert trace.runs_per_status(reader) == {"completed": 2, "failed": 1, "running": 1}
    assert trace.runs_per_status(reader, since=ts(2), until=ts(4)) == {"completed": 1, "failed": 1}


def test_duration_percentiles_of_finished_runs(reader: StoreReader) -> None:
    assert trace.duration_percentiles(reader) == {"count": 3, "p50": 2000.0, "p95": 4000.0}
    assert trace.duration_percentiles(reader, since=ts(9)) == {"count": 0, "p50": None, "p95": None}


def test_tokens_per_provider_count_every_call_and_the_tokens_of_failed_ones(reader: StoreReader) -> None:
    assert trace.tokens_per_provider(reader) == {
        "anthropic": {"calls": 1, "input_tokens": 9, "output_tokens": 8, "total_tokens": 17},
        "openai": {"calls": 2, "input_tokens": 14, "output_tokens": 6, "total_tokens": 20}}


def test_tool_failures_count_errors_and_failed_status(reader: StoreReader) -> None:
    assert trace.tool_failures(reader) == {"calc": {"calls": 1, "failures": 0, "last_error": None},
                                           "http": {"calls": 2, "failures": 2, "last_error": "failed"}}
    assert trace.summary(reader)["tools"]["http"]["failures"] == 2
