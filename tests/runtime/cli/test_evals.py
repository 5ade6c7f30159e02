"""`agentstage eval`: the example dataset offline, exit codes, one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXAMPLE = str(Path(__file__).resolve().parents[3] / "examples" / "eval.jsonl")


def test_the_example_dataset_passes_offline(cli) -> None:
    code, out, _ = cli("eval", EXAMPLE, "--json", "--workers", "2")
    report = json.loads(out)
    assert code == 0 and report["summary"]["pass_rate"] == 1.0
    assert all(case["run_id"] for case in report["cases"])
    code, out, _ = cli("runs", "show", report["cases"][0]["run_id"], "--json")
    assert code == 0 and json.loads(out)["run"]["metadata"]["eval_id"] == report["eval_id"]


def test_below_fail_under_exits_1(cli, tmp_path: Path) -> None:
    dataset = tmp_path / "d.jsonl"
    dataset.write_text('{"id": "ok", "input": "hello"}\n{"id": "no", "input": "hello", "expected_output": "bye"}\n')
    code, out, _ = cli("eval", str(dataset), "--markdown")
    assert code == 1 and "| no | failed |" in out
    code, out, _ = cli("eval", str(dataset), "--fail-under", "0.5")
    assert code == 0 and "1/2 passed" in out


@pytest.mark.parametrize(("lines", "args", "message"), [
    (['{"input": "hi"}', '{"input": "hi", "assertions": [{"type": "fuzzy"}]}'], (),
     "line 2: field 'assertions[0].type': unknown assertion type 'fuzzy'"),
    (['{"input": "hi", "agent": "ghost"}'], (), "line 1: field 'agent': unknown agent 'ghost'"),
    (['{"input": "hi", "judge": "polite"}'], (), "line 1: field 'judge': the case asks for a judge"),
    (['{"input": "hi"}'], ("--judge",), "the offline scripted provider cannot judge"),
    (['{"input": "hi"}'], ("--fail-under", "80"), "--fail-under: expected a fraction from 0 to 1"),
    (['{"input": "hi"}'], ("--workers", "0"), "--workers: must be at least 1"),
])
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path: Path, lines: list[str], args: tuple, message: str) -> None:
    dataset = tmp_path / "d.jsonl"
    dataset.write_text("\n".join(lines) + "\n")
    code, out, err = cli("eval", str(dataset), *args)
    assert code == 2 and out == ""
    [line] = [x for x in err.splitlines() if "scripted provider (" not in x]
    assert message in line and "Traceback" not in err


def test_workflow_runs_cases_that_name_no_agent(cli, tmp_path: Path) -> None:
    dataset = tmp_path / "d.jsonl"
    dataset.write_text('{"id": "sum", "input": "calculate 2 + 3", "expected_output": "5", "required_tools": ["calculator"]}\n')
    code, out, _ = cli("eval", str(dataset), "--workflow", "triage", "--json")
    report = json.loads(out)
    assert code == 0 and report["agent"] == "workflow:triage" and report["cases"][0]["agent"] == "workflow:triage"
