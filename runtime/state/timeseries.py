"""Bucketed aggregates over a time window, for the DevUI's overview charts (SQLite-backed readers).

    timeseries.runs(reader, since, until, bucket_s)     # per bucket: runs by status, p50/p95 duration (ms)
    timeseries.tokens(reader, since, until, bucket_s)   # per bucket and model: input/output tokens, calls
    timeseries.queue(reader, since, until, bucket_s)    # per bucket: tasks queued, claimed, acked; depth at its end
    timeseries.series(reader, since, until, bucket_s, prices, with_queue=True)   # all of it, every bucket, costs

`since`/`until` are the store's UTC ISO-8601 text; a bucket is `bucket_s` seconds from `since`, and
bucket `i` is returned as its index. Runs are bucketed by creation time (the indexed column), model
calls by their `llm.response` event time, queue transitions by their time.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from agentstage.runtime.clock import parse_ts
from agentstage.runtime.prices import PriceTable
from agentstage.runtime.state.reader import queue_transitions_sql
from agentstage.runtime.state.records import USAGE_EVENTS
from agentstage.runtime.state.sqlite import store_errors

__all__ = ["BASELINE_S", "queue", "runs", "series", "tokens"]

BASELINE_S = 86_400
"""How far before the window queue transitions are read to know the depth at its start."""

_WAITING = ("enqueued", "requeued", "retried")
_USAGE = tuple(sorted(USAGE_EVENTS))
_BUCKET = "CAST((unixepoch({column}, 'subsec') - unixepoch(?, 'subsec')) / ? AS INTEGER)"


def format_ts(moment: datetime) -> str:
    """`moment` in the store's text form."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _rows(reader: Any, sql: str, params: tuple) -> list[tuple]:
    with store_errors(reader.path):
        return list(reader.connection.execute(sql, params))


def runs(reader: Any, since: str, until: str, bucket_s: float) -> dict[int, dict[str, Any]]:
    """Per bucket with runs: `{"runs": {status: n}, "duration_ms_p50", "duration_ms_p95"}` (nearest rank,
    over the bucket's finished runs; None when none finished)."""
    bucket = _BUCKET.format(column="created_at")
    out: dict[int, dict[str, Any]] = {}
    for b, status, n in _rows(reader, f"SELECT {bucket} AS b, status, count(*) FROM runs"
                              " WHERE created_at >= ? AND created_at < ? GROUP BY b, status",
                              (since, bucket_s, since, until)):
        entry = out.setdefault(b, {"runs": {}, "duration_ms_p50": None, "duration_ms_p95": None})
        entry["runs"][status] = n
    duration = "(unixepoch(ended_at, 'subsec') - unixepoch(started_at, 'subsec')) * 1000.0"
    ranked = _rows(reader, f"SELECT b, c, max(CASE WHEN n = (50 * c + 99) / 100 THEN ms END),"
                   " max(CASE WHEN n = (95 * c + 99) / 100 THEN ms END) FROM ("
                   " SELECT b, ms, row_number() OVER (PARTITION BY b ORDER BY ms) AS n,"
                   " count(*) OVER (PARTITION BY b) AS c FROM ("
                   f"  SELECT {bucket} AS b, {duration} AS ms FROM runs WHERE created_at >= ? AND created_at < ?"
                   "   AND started_at IS NOT NULL AND ended_at IS NOT NULL)) GROUP BY b",
                   (since, bucket_s, since, until))
    for b, _count, p50, p95 in ranked:
        entry = out.setdefault(b, {"runs": {}, "duration_ms_p50": None, "duration_ms_p95": None})
        entry["duration_ms_p50"], entry["duration_ms_p95"] = round(p50, 3), round(p95, 3)
    return out


def tokens(reader: Any, since: str, until: str, bucket_s: float) -> dict[int, dict[str, dict[str, int]]]:
    """Per bucket with model calls, per model (`""` when unnamed): `{"calls", "input_tokens", "output_tokens"}`.

    Counted from each run's own usage events (answers, and failed or retried calls whose server reported
    tokens, as the store counts them), so a graph run's child calls count once."""
    bucket = _BUCKET.format(column="ts")
    out: dict[int, dict[str, dict[str, int]]] = {}
    for b, model, calls, tokens_in, tokens_out in _rows(
            reader, f"SELECT {bucket} AS b, coalesce(json_extract(data, '$.model'), ''), count(*),"
            " coalesce(sum(json_extract(data, '$.usage.input_tokens')), 0),"
            " coalesce(sum(json_extract(data, '$.usage.output_tokens')), 0)"
            f" FROM events WHERE type IN ({','.join('?' * len(_USAGE))}) AND ts >= ? AND ts < ? GROUP BY b, 2",
            (since, bucket_s, *_USAGE, since, until)):
        out.setdefault(b, {})[model] = {"calls": calls, "input_tokens": int(tokens_in), "output_tokens": int(tokens_out)}
    return out


def queue(reader: Any, since: str, until: str, bucket_s: float) -> tuple[int, dict[int, dict[str, int]]]:
    """The tasks waiting at `since`, and per bucket with transitions: tasks `queued` (enqueued, requeued,
    retried), `claimed` and `acked` (done by a worker), and `depth`, the tasks waiting at the bucket's end.

    A task waits from a waiting transition to its next other one; transitions are read from `BASELINE_S`
    before the window on."""
    window = "{column} >= strftime('%Y-%m-%dT%H:%M:%fZ', ?1, ?2) AND {column} < ?3"
    transitions = queue_transitions_sql(*(window.format(column=c) for c in ("a.claimed_at", "a.acked_at", "ts")))
    rows = _rows(reader, "SELECT task_id, kind, unixepoch(ts, 'subsec') - unixepoch(?1, 'subsec')"
                 f" FROM ({transitions}) ORDER BY ts, task_id", (since, f"-{BASELINE_S} seconds", until))
    counted = {"claimed": "claimed", "acked": "acked", **{k: "queued" for k in _WAITING}}
    waiting: set[str] = set()
    baseline: int | None = None
    out: dict[int, dict[str, int]] = {}
    for task_id, kind, offset in rows:
        if offset >= 0 and baseline is None:
            baseline = len(waiting)
        if kind in _WAITING:
            waiting.add(task_id)
        else:
            waiting.discard(task_id)
        if offset < 0:
            continue
        entry = out.setdefault(int(offset // bucket_s), {"queued": 0, "claimed": 0, "acked": 0, "depth": 0})
        if kind in counted:
            entry[counted[kind]] += 1
        entry["depth"] = len(waiting)
    return (len(waiting) if baseline is None else baseline), out


def series(reader: Any, since: str, until: str, bucket_s: int, prices: PriceTable, *,
           with_queue: bool) -> dict[str, Any]:
    """Every bucket of the window (empty ones too): runs by status, p50/p95 duration, model calls, tokens,
    estimated cost, and with `with_queue` the queue's transitions and depth; plus the window's totals."""
    start = parse_ts(since)
    count = max(1, math.ceil((parse_ts(until) - start).total_seconds() / bucket_s))
    by_runs, by_tokens = runs(reader, since, until, bucket_s), tokens(reader, since, until, bucket_s)
    depth, by_queue = queue(reader, since, until, bucket_s) if with_queue else (0, {})
    unpriced: set[str] = set()
    buckets, total = [], 0.0
    for b in range(count):
        r = by_runs.get(b, {"runs": {}, "duration_ms_p50": None, "duration_ms_p95": None})
        cost, calls, tokens_in, tokens_out = 0.0, 0, 0, 0
        for model, used in by_tokens.get(b, {}).items():
            calls, tokens_in, tokens_out = calls + used["calls"], tokens_in + used["input_tokens"], \
                tokens_out + used["output_tokens"]
            price = prices.price_of(model)
            if price is None:
                unpriced.add(model)
            else:
                cost += price.cost(used["input_tokens"], used["output_tokens"])
        q = by_queue.get(b)
        depth = q["depth"] if q else depth
        total += cost
        buckets.append({
            "start": format_ts(start + timedelta(seconds=b * bucket_s)), **r, "llm_calls": calls,
            "input_tokens": tokens_in, "output_tokens": tokens_out, "cost_usd": round(cost, 6),
            "queued": (q or {}).get("queued", 0) if with_queue else None,
            "claimed": (q or {}).get("claimed", 0) if with_queue else None,
            "acked": (q or {}).get("acked", 0) if with_queue else None,
            "queue_depth": depth if with_queue else None,
        })
    return {"since": since, "until": until, "bucket_s": bucket_s, "queues": with_queue, "buckets": buckets,
            "cost_usd": round(total, 6), "prices": list(prices.prices), "unpriced_models": sorted(unpriced)}
