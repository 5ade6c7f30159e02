"""Read queries for stored evaluations: eval runs newest first, one with its cases, two compared case by case."""

from __future__ import annotations

import json
from typing import Any

from agentstage.runtime.errors import NotFound
from agentstage.runtime.state.sqlite import store_errors

__all__ = ["compare_evals", "get_eval", "list_evals"]

_COLUMNS = ("eval_id, dataset, agent, status, started_at, ended_at, cases, passed, pass_rate, fail_under, options,"
            " summary, error")


def list_evals(reader: Any, *, limit: int = 50, status: str | None = None) -> list[dict[str, Any]]:
    """Evaluations newest first (without their cases), at most `limit`, optionally of one status."""
    if not hasattr(reader, "connection"):  # the Redis store answers from its own layout
        rows = sorted(reader.eval_runs(), key=lambda r: (r["started_at"], r["eval_id"]), reverse=True)
        return [r for r in rows if status is None or r["status"] == status][:limit]
    where, params = ("WHERE status = ?", (status,)) if status else ("", ())
    with store_errors(reader.path):
        rows = list(reader.connection.execute(
            f"SELECT {_COLUMNS} FROM eval_runs {where} ORDER BY started_at DESC, eval_id DESC LIMIT ?",
            (*params, limit)))
    return [_row(r) for r in rows]


def get_eval(reader: Any, eval_id: str) -> dict[str, Any]:
    """One evaluation with its case results (`results`, dataset order); raises NotFound("eval", id)."""
    if not hasattr(reader, "connection"):
        found = reader.eval_run(eval_id)
        if found is None:
            raise NotFound("eval", eval_id)
        return {**found, "results": [_case(c["result"], c["status"], c["run_id"]) for c in reader.eval_cases(eval_id)]}
    with store_errors(reader.path):
        rows = list(reader.connection.execute(f"SELECT {_COLUMNS} FROM eval_runs WHERE eval_id = ?", (eval_id,)))
        if not rows:
            raise NotFound("eval", eval_id)
        cases = list(reader.connection.execute(
            "SELECT result, status, run_id FROM eval_cases WHERE eval_id = ? ORDER BY position, case_id", (eval_id,)))
    return {**_row(rows[0]), "results": [_case(json.loads(r), status, run_id) for r, status, run_id in cases]}


def compare_evals(reader: Any, base_id: str, head_id: str) -> dict[str, Any]:
    """Case by case, what changed from eval `base_id` to eval `head_id`: regressed (passed, now not), improved
    (the other way), still passing, still failing, added and removed cases. Raises NotFound for either id."""
    base, head = get_eval(reader, base_id), get_eval(reader, head_id)
    before = {c["case_id"]: c for c in base["results"]}
    after = {c["case_id"]: c for c in head["results"]}
    groups: dict[str, list[dict[str, Any]]] = {k: [] for k in ("regressed", "improved", "still_passing",
                                                               "still_failing", "added", "removed")}
    for case_id, now in after.items():
        then = before.get(case_id)
        if then is None:
            groups["added"].append(_change(case_id, None, now))
            continue
        key = {(True, False): "regressed", (False, True): "improved", (True, True): "still_passing",
               (False, False): "still_failing"}[(then["passed"], now["passed"])]
        groups[key].append(_change(case_id, then, now))
    groups["removed"] = [_change(case_id, then, None) for case_id, then in before.items() if case_id not in after]
    strip = ("results", "options")
    return {"base": {k: v for k, v in base.items() if k not in strip},
            "head": {k: v for k, v in head.items() if k not in strip}, **groups,
            "pass_rate_delta": round((head["pass_rate"] or 0.0) - (base["pass_rate"] or 0.0), 4)}


def _change(case_id: str, then: dict[str, Any] | None, now: dict[str, Any] | None) -> dict[str, Any]:
    def side(c: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if c is None else {"status": c["status"], "run_id": c["run_id"], "reason": c.get("reason", "")}

    return {"case_id": case_id, "base": side(then), "head": side(now)}


def _row(row: tuple) -> dict[str, Any]:
    (eval_id, dataset, agent, status, started, ended, cases, passed, rate, fail_under, options, summary, error) = row
    return {"eval_id": eval_id, "dataset": dataset, "agent": agent, "status": status, "started_at": started,
            "ended_at": ended, "cases": cases, "passed": passed, "pass_rate": rate, "fail_under": fail_under,
            "options": json.loads(options), "summary": json.loads(summary), "error": error}


def _case(result: dict[str, Any], status: str, run_id: str) -> dict[str, Any]:
    return {**result, "status": status, "run_id": run_id, "passed": status == "passed"}
