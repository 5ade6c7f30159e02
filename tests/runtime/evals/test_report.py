"""Reports: totals and pass rate against fail-under, as JSON, Markdown and plain lines."""

from __future__ import annotations

from agentstage.runtime.evals.assertions import Check
from agentstage.runtime.evals.report import CaseResult, EvalReport


def result(case_id: str, status: str, seconds: float, checks=(), error=None, tags=(), tools_held=None) -> CaseResult:
    return CaseResult(case_id, status, f"run-{case_id}", (f"run-{case_id}",), "out", error, tuple(checks), (), None,
                      seconds, 10, tags=tags, tool_constraints=tools_held)


REPORT = EvalReport("e1", "d.jsonl", "default", "t0", "t1", (
    result("a", "passed", 1.0), result("b|c", "failed", 2.0, [Check("contains 'x'", False, "not in the answer")]),
    result("d", "error", 3.0, error="timed out after 1s"), result("e", "passed", 4.0)), fail_under=0.5)


def test_summary_counts_statuses_and_compares_with_fail_under() -> None:
    summary = REPORT.summary()
    assert {k: summary[k] for k in ("cases", "passed", "failed", "errors", "pass_rate", "ok", "tokens")} == {
        "cases": 4, "passed": 2, "failed": 1, "errors": 1, "pass_rate": 0.5, "ok": True, "tokens": 40}
    assert (summary["seconds_p50"], summary["seconds_p95"]) == (3.0, 4.0)
    assert not EvalReport("e2", "d", "default", "t0", "t1", REPORT.results, fail_under=0.75).ok


def test_json_lists_cases_with_their_runs() -> None:
    data = REPORT.to_dict()
    assert [c["run_id"] for c in data["cases"]] == ["run-a", "run-b|c", "run-d", "run-e"]
    assert data["cases"][1]["checks"] == [{"name": "contains 'x'", "passed": False, "detail": "not in the answer"}]


def test_markdown_escapes_cells_and_says_why_a_case_failed() -> None:
    text = REPORT.to_markdown()
    assert "| b\\|c | failed | `run-b|c` |  | contains 'x': not in the answer |" in text
    assert "**2/4 passed** (50%, needs 50%)" in text


def test_text_names_each_case_and_the_verdict() -> None:
    lines = REPORT.to_text().splitlines()
    assert lines[2] == "ERROR  d  run run-d  (timed out after 1s)"
    assert lines[-1].endswith("2/4 passed (50%; fail-under 50%) -> ok")


def test_markdown_adds_tool_accuracy_and_a_row_per_tag() -> None:
    report = EvalReport("e3", "d", "default", "t0", "t1", (
        result("a", "passed", 1.0, tags=("math", "x|y"), tools_held=True),
        result("b", "failed", 1.0, tags=("math",), tools_held=False), result("c", "passed", 1.0)))
    text = report.to_markdown()
    assert "Tool constraints held in 50% of the cases that set them." in text
    assert "| math | 2 | 1 | 50% |" in text and "| x\\|y | 1 | 1 | 100% |" in text
    assert report.summary()["tags"]["math"] == {"cases": 2, "passed": 1, "pass_rate": 0.5}


def test_no_tool_constraints_and_no_tags_leave_those_parts_out() -> None:
    summary = REPORT.summary()
    assert (summary["tool_accuracy"], summary["tags"]) == (None, {})
    assert "Tool constraints" not in REPORT.to_markdown() and "| tag |" not in REPORT.to_markdown()
