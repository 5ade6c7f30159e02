"""Stored evaluations through `runtime/state/evals.py`, on every backend: listed newest first, read with
their cases, compared case by case; an ended eval is not moved back by a replayed write."""

from __future__ import annotations

import pytest

from agentstage.runtime.errors import NotFound
from agentstage.runtime.state.evals import compare_evals, get_eval, list_evals
from agentstage.runtime.state.records import EvalCaseResult, EvalRun
from tests.runtime.state.conftest import ts
from tests.runtime.state.test_contract import Store, store  # noqa: F401  (the contract's fixture)


def case(eval_id: str, case_id: str, position: int, status: str) -> EvalCaseResult:
    return EvalCaseResult(eval_id, case_id, position, status, f"run-{eval_id}-{case_id}",
                          {"case_id": case_id, "reason": "" if status == "passed" else "nope"}, ts(position))


def stored(store: Store, eval_id: str, started: int, statuses: dict[str, str]) -> None:
    running = EvalRun(eval_id, "default", "running", ts(started), 1.0, "d.jsonl", cases=len(statuses),
                      options={"workers": 2})
    passed = sum(1 for s in statuses.values() if s == "passed")
    store.writer.write([running, *(case(eval_id, c, n, s) for n, (c, s) in enumerate(statuses.items()))])
    store.writer.write([EvalRun(eval_id, "default", "completed", ts(started), 1.0, "d.jsonl", ts(started + 1),
                                len(statuses), passed, passed / len(statuses), {"workers": 2}, {"cases": len(statuses)})])


def test_evals_round_trip_and_list_newest_first(store: Store) -> None:
    stored(store, "e1", 1, {"a": "passed", "b": "failed"})
    stored(store, "e2", 5, {"a": "passed"})
    store.writer.write([EvalRun("e1", "default", "running", ts(1), 1.0, "d.jsonl")])
    assert [e["eval_id"] for e in list_evals(store.reader)] == ["e2", "e1"]
    assert [e["eval_id"] for e in list_evals(store.reader, limit=1)] == ["e2"]
    one = get_eval(store.reader, "e1")
    assert (one["status"], one["passed"], one["pass_rate"], one["options"]) == ("completed", 1, 0.5, {"workers": 2})
    assert [(c["case_id"], c["passed"], c["run_id"]) for c in one["results"]] == [
        ("a", True, "run-e1-a"), ("b", False, "run-e1-b")]
    with pytest.raises(NotFound):
        get_eval(store.reader, "missing")


def test_compare_names_regressed_improved_added_and_removed_cases(store: Store) -> None:
    stored(store, "base", 1, {"keep": "passed", "breaks": "passed", "fixed": "failed", "gone": "passed"})
    stored(store, "head", 3, {"keep": "passed", "breaks": "error", "fixed": "passed", "new": "failed"})
    diff = compare_evals(store.reader, "base", "head")
    assert {k: [c["case_id"] for c in diff[k]] for k in ("regressed", "improved", "still_passing", "still_failing",
                                                         "added", "removed")} == {
        "regressed": ["breaks"], "improved": ["fixed"], "still_passing": ["keep"], "still_failing": [],
        "added": ["new"], "removed": ["gone"]}
    assert diff["regressed"][0]["head"] == {"status": "error", "run_id": "run-head-breaks", "reason": "nope"}
    assert diff["pass_rate_delta"] == -0.25
