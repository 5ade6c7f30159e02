"""Trace queries for the API and the DevUI: one run's trace, and aggregates over many runs.

    from agentstage.runtime.state import trace

    trace.run_trace(reader, run_id)            # RunTrace: the run row + classified steps
    trace.runs_per_status(reader)              # {"completed": 12, "failed": 1, ...}
    trace.duration_percentiles(reader)         # {"count": 13, "p50": 812.0, "p95": 2310.5} (ms)
    trace.tokens_per_provider(reader)          # {"openai": {"calls", "input_tokens", ...}}
    trace.tool_failures(reader)                # {"http_get": {"calls": 9, "failures": 2, "last_error"}}
    trace.summary(reader, since=..., until=...)

`reader` is any store reader. Aggregates run as SQL on readers backed by the SQLite record
(SQLite, Hybrid, admin readers); on the Redis-only store they scan runs and events instead.
`since`/`until` bound run creation time (run aggregates) or event time (token and tool
aggregates), as UTC ISO-8601 text. A tool call counts as failed when its `tool.result` event
has an `error` or `data.status == "failed"`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from agentstage.runtime.clock import parse_ts
from agentstage.runtime.state.base import StoreReader
from agentstage.runtime.state.reader import RunRow
from agentstage.runtime.state.records import USAGE_EVENTS, Event
from agentstage.runtime.state.sqlite import store_errors

__all__ = ["RunTrace", "TraceStep", "duration_percentiles", "run_trace", "runs_per_status", "summary",
           "tokens_per_provider", "tool_failures"]

_KINDS = {"run": "run", "llm": "llm", "tool": "tool", "node": "node", "checkpoint": "checkpoint", "task": "task",
          "graph": "graph"}
_STARTED = ("started", "request", "call", "entered", "queued", "resumed")
_COMPLETED = ("completed", "result", "response", "exited", "saved")
_PAGE = 1000


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One event of a run, classified: `kind` (run, llm, tool, node, ...) and `status`
    (started, completed, failed or info)."""

    seq: int
    type: str
    ts: str
    kind: str
    status: str
    node: str | None
    tool: str | None
    provider: str | None
    duration_ms: float | None
    input_tokens: int
    output_tokens: int
    error: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RunTrace:
    """A run and its steps in `seq` order."""

    run: RunRow
    steps: list[TraceStep]

    @property
    def tool_calls(self) -> int:
        return sum(1 for s in self.steps if s.type == "tool.result")

    @property
    def tool_failures(self) -> int:
        return sum(1 for s in self.steps if s.type == "tool.result" and s.status == "failed")

    @property
    def llm_calls(self) -> int:
        return sum(1 for s in self.steps if s.type == "llm.response")


def classify(event: Event) -> TraceStep:
    """A stored event as a trace step."""
    family, _, action = event.type.partition(".")
    data = event.data or {}
    if _failed(event.type, event.error, data):
        status = "failed"
    else:
        status = "started" if action in _STARTED else "completed" if action in _COMPLETED else "info"
    usage = data.get("usage") if event.type in USAGE_EVENTS else None
    return TraceStep(event.seq, event.type, event.ts, _KINDS.get(family, "other"), status, event.node,
                     event.tool, event.provider, event.duration_ms,
                     int((usage or {}).get("input_tokens") or 0), int((usage or {}).get("output_tokens") or 0),
                     event.error, data)


def run_trace(reader: StoreReader, run_id: str) -> RunTrace:
    """The run and all its events as steps; raises NotFound for an unknown run."""
    run = reader.get_run(run_id)
    return RunTrace(run, [classify(e) for e in _all_events(reader, run_id)])


def runs_per_status(reader: StoreReader, *, since: str | None = None, until: str | None = None) -> dict[str, int]:
    """How many runs (created in the window) are in each status."""
    if _sql(reader):
        where, params = _window("created_at", since, until)
        return dict(_rows(reader, f"SELECT status, count(*) FROM runs{where} GROUP BY status ORDER BY status", params))
    counts: dict[str, int] = {}
    for run in _all_runs(reader, since, until):
        counts[run.status] = counts.get(run.status, 0) + 1
    return dict(sorted(counts.items()))


def duration_percentiles(reader: StoreReader, *, since: str | None = None, until: str | None = None,
                         percentiles: tuple[int, ...] = (50, 95)) -> dict[str, Any]:
    """Nearest-rank percentiles of finished runs' durations in ms: `{"count", "p50", "p95"}` (None when empty)."""
    duration = "(unixepoch(ended_at, 'subsec') - unixepoch(started_at, 'subsec')) * 1000.0"
    if _sql(reader):
        where, params = _window("created_at", since, until, "ended_at IS NOT NULL AND started_at IS NOT NULL")
        count = _rows(reader, f"SELECT count(*) FROM runs{where}", params)[0][0]

        def at(rank: int) -> float:
            return _rows(reader, f"SELECT {duration} AS d FROM runs{where} ORDER BY d LIMIT 1 OFFSET ?",
                         (*params, rank))[0][0]
    else:
        values = sorted((parse_ts(r.ended_at) - parse_ts(r.started_at)).total_seconds() * 1000.0
                        for r in _all_runs(reader, since, until) if r.ended_at and r.started_at)
        count = len(values)

        def at(rank: int) -> float:
            return values[rank]
    result: dict[str, Any] = {"count": count}
    for p in percentiles:
        result[f"p{p}"] = round(at(max(0, math.ceil(p / 100 * count) - 1)), 3) if count else None
    return result


def tokens_per_provider(reader: StoreReader, *, since: str | None = None,
                        until: str | None = None) -> dict[str, dict[str, int]]:
    """Per provider: LLM answers (`llm.response` events) and input/output/total tokens in the window.

    The tokens include those of failed calls whose server reported usage (`llm.retry`, `llm.error`).
    """
    totals: dict[str, dict[str, int]] = {}
    if _sql(reader):
        types = sorted(USAGE_EVENTS)
        where, params = _window("ts", since, until, f"type IN ({', '.join('?' * len(types))})")
        rows = _rows(reader, "SELECT coalesce(provider, ''), sum(type = 'llm.response'),"
                     " coalesce(sum(json_extract(data, '$.usage.input_tokens')), 0),"
                     f" coalesce(sum(json_extract(data, '$.usage.output_tokens')), 0) FROM events{where}"
                     " GROUP BY 1 ORDER BY 1", (*types, *params))
    else:
        grouped: dict[str, list[int]] = {}
        for e in _all_events_in(reader, since, until, USAGE_EVENTS):
            usage = e.data.get("usage") or {}
            acc = grouped.setdefault(e.provider or "", [0, 0, 0])
            acc[0] += e.type == "llm.response"
            acc[1] += int(usage.get("input_tokens") or 0)
            acc[2] += int(usage.get("output_tokens") or 0)
        rows = [(p, *v) for p, v in sorted(grouped.items())]
    for provider, calls, tokens_in, tokens_out in rows:
        totals[provider] = {"calls": calls, "input_tokens": int(tokens_in), "output_tokens": int(tokens_out),
                            "total_tokens": int(tokens_in) + int(tokens_out)}
    return totals


def tool_failures(reader: StoreReader, *, since: str | None = None,
                  until: str | None = None) -> dict[str, dict[str, Any]]:
    """Per tool: calls, failures and the latest failure's error, from `tool.result` events in the window."""
    if _sql(reader):
        failed = "(error IS NOT NULL OR json_extract(data, '$.status') = 'failed')"
        where, params = _window("ts", since, until, "type = 'tool.result'")
        counts = _rows(reader, f"SELECT coalesce(tool, ''), count(*), sum({failed}) FROM events{where}"
                       " GROUP BY 1 ORDER BY 1", params)
        last = dict(_rows(reader, "SELECT tool, error FROM (SELECT coalesce(tool, '') AS tool,"
                          " coalesce(error, json_extract(data, '$.error'), 'failed') AS error,"
                          " row_number() OVER (PARTITION BY tool ORDER BY ts DESC, run_id DESC, seq DESC) AS n"
                          f" FROM events{where} AND {failed}) WHERE n = 1", params))
        return {tool: {"calls": calls, "failures": failures, "last_error": last.get(tool)}
                for tool, calls, failures in counts}
    result: dict[str, dict[str, Any]] = {}
    for e in sorted(_all_events_in(reader, since, until, {"tool.result"}), key=lambda e: (e.ts, e.run_id, e.seq)):
        entry = result.setdefault(e.tool or "", {"calls": 0, "failures": 0, "last_error": None})
        entry["calls"] += 1
        if _failed(e.type, e.error, e.data):
            entry["failures"] += 1
            entry["last_error"] = e.error or e.data.get("error") or "failed"
    return dict(sorted(result.items()))


def summary(reader: StoreReader, *, since: str | None = None, until: str | None = None) -> dict[str, Any]:
    """All aggregates of a window in one document (what the DevUI's overview shows)."""
    return {"runs": runs_per_status(reader, since=since, until=until),
            "durations_ms": duration_percentiles(reader, since=since, until=until),
            "tokens": tokens_per_provider(reader, since=since, until=until),
            "tools": tool_failures(reader, since=since, until=until)}


def _failed(event_type: str, error: str | None, data: dict[str, Any]) -> bool:
    return error is not None or data.get("status") == "failed" or event_type.endswith((".failed", ".error"))


def _sql(reader: Any) -> bool:
    return hasattr(reader, "connection") and hasattr(reader, "path")


def _rows(reader: Any, sql: str, params: tuple = ()) -> list[tuple]:
    with store_errors(reader.path):
        return list(reader.connection.execute(sql, params))


def _window(column: str, since: str | None, until: str | None, *extra: str) -> tuple[str, tuple]:
    clauses, params = list(extra), []
    if since is not None:
        clauses.append(f"{column} >= ?")
        params.append(since)
    if until is not None:
        clauses.append(f"{column} < ?")
        params.append(until)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


def _all_events(reader: StoreReader, run_id: str) -> Iterator[Event]:
    after = 0
    while True:
        page = reader.events(run_id, after_seq=after, limit=_PAGE)
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1].seq


def _all_runs(reader: StoreReader, since: str | None, until: str | None) -> Iterator[RunRow]:
    cursor = None
    while True:
        page = reader.list_runs(since=since, until=until, limit=_PAGE, cursor=cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _all_events_in(reader: StoreReader, since: str | None, until: str | None,
                   event_types: Collection[str]) -> Iterator[Event]:
    """Events of these types in the window, scanning every run (the Redis-only store has no event index)."""
    for run in _all_runs(reader, None, None):
        for e in _all_events(reader, run.run_id):
            if e.type in event_types and (since is None or e.ts >= since) and (until is None or e.ts < until):
                yield e
