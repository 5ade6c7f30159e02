"""Bucketed aggregates: runs by status and duration percentiles, tokens and costs per model, queue depth."""

from __future__ import annotations

from agentstage.runtime.prices import Price, PriceTable
from agentstage.runtime.state import Event, QueueEvent, RunAttempt
from agentstage.runtime.state import timeseries
from agentstage.runtime.state.admin import AdminReader
from agentstage.runtime.state.sqlite import SQLiteWriter

T0 = "2030-01-01T00:00:00.000Z"


def _at(seconds: float) -> str:
    return timeseries.format_ts(timeseries.parse_ts(T0) + timeseries.timedelta(seconds=seconds))


def _run(run_id: str, start: float, took_ms: int, status: str = "completed", model: str = "m1",
         tokens: tuple[int, int] = (0, 0)) -> list[Event]:
    events = [Event(run_id, 1, "run.started", _at(start), "s", {"input": "x"})]
    if any(tokens):
        events.append(Event(run_id, 2, "llm.response", _at(start), "s",
                            {"model": model, "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]}}))
    events.append(Event(run_id, 3, f"run.{status}", _at(start + took_ms / 1000), "s", {}))
    return events


def test_series_buckets_runs_durations_tokens_costs_and_queue_depth(tmp_path) -> None:
    store = SQLiteWriter(tmp_path / "s.db")
    records = [*_run("a", 1, 100, tokens=(1000, 500)), *_run("b", 2, 300, tokens=(2000, 0)),
               *_run("c", 3, 200, "failed", model="other", tokens=(10, 10)), *_run("d", 65, 50),
               Event("d", 4, "llm.retry", _at(66), "s", {"usage": {"input_tokens": 7, "output_tokens": 0}})]
    records += [QueueEvent("t0", 1, "enqueued", _at(-30), "old"),  # waiting before the window
                QueueEvent("t1", 1, "enqueued", _at(5), "a"), QueueEvent("t2", 1, "enqueued", _at(6), "b"),
                QueueEvent("t1", 1, "claimed", _at(70), "a"), QueueEvent("t1", 1, "acked", _at(71), "a")]
    store.write(records)
    store.close()
    reader = AdminReader(tmp_path / "s.db")
    prices = PriceTable((Price("m1", 1.0, 10.0),))
    doc = timeseries.series(reader, T0, _at(180), 60, prices, with_queue=True)
    first, second, third = doc["buckets"]
    assert first["runs"] == {"completed": 2, "failed": 1} and second["runs"] == {"completed": 1} and third["runs"] == {}
    assert (first["duration_ms_p50"], first["duration_ms_p95"]) == (200.0, 300.0)
    assert third["duration_ms_p50"] is None
    assert (first["llm_calls"], first["input_tokens"], first["output_tokens"]) == (3, 3010, 510)
    assert (second["llm_calls"], second["input_tokens"]) == (1, 7), "a retried call's reported tokens count"
    assert first["cost_usd"] == 0.008, "m1 only: 3000 in at $1/M + 500 out at $10/M"
    assert doc["unpriced_models"] == ["", "other"] and doc["cost_usd"] == 0.008
    assert [b["queue_depth"] for b in doc["buckets"]] == [3, 2, 2]
    assert (second["claimed"], second["acked"], first["queued"]) == (1, 1, 2)
    assert timeseries.series(reader, T0, _at(60), 60, prices, with_queue=False)["buckets"][0]["queue_depth"] is None
    reader.close()


def test_claims_and_acks_kept_on_attempts_count_in_their_buckets(tmp_path) -> None:
    store = SQLiteWriter(tmp_path / "s.db")
    store.write([QueueEvent("t1", 1, "enqueued", _at(5), "a"), QueueEvent("t2", 1, "enqueued", _at(6), "b"),
                 RunAttempt("a", 1, "completed", _at(70), "t1", "w1", _at(130), claimed_at=_at(70), acked_at=_at(130)),
                 RunAttempt("b", 1, "running", _at(75), "t2", "w1", claimed_at=_at(75)),
                 RunAttempt("c", 1, "cancelled", _at(80), "t3", "", _at(80))])
    store.close()
    reader = AdminReader(tmp_path / "s.db")
    doc = timeseries.series(reader, T0, _at(180), 60, PriceTable(()), with_queue=True)
    assert [(b["queued"], b["claimed"], b["acked"]) for b in doc["buckets"]] == [(2, 0, 0), (0, 2, 0), (0, 0, 1)]
    assert [b["queue_depth"] for b in doc["buckets"]] == [2, 0, 0]
    reader.close()
