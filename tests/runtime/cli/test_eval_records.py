"""`agentstage evals list|show|compare` over evals stored by `agentstage eval`."""

from __future__ import annotations

import json
from pathlib import Path


def two_evals(cli, tmp_path: Path) -> tuple[str, str]:
    dataset = tmp_path / "d.jsonl"
    ids = []
    for expected in ("42", "41"):
        dataset.write_text(f'{{"id": "math", "input": "What is 6 * 7?", "expected_output": "{expected}"}}\n'
                           '{"id": "hi", "input": "hello", "expected_output": "hello"}\n')
        code, out, _ = cli("eval", str(dataset), "--json")
        ids.append(json.loads(out)["eval_id"])
    return ids[0], ids[1]


def test_list_and_show_read_stored_evals(cli, tmp_path: Path) -> None:
    assert cli("evals", "list")[1] == "no evaluations yet\n"
    base, head = two_evals(cli, tmp_path)
    code, out, _ = cli("evals", "list", "--json")
    assert code == 0 and [e["eval_id"] for e in json.loads(out)] == [head, base]
    code, out, _ = cli("evals", "show", head)
    assert code == 0 and "passed=1/2" in out and "FAILED math  run " in out and "contains '41'" in out


def test_compare_exits_1_on_a_regression(cli, tmp_path: Path) -> None:
    base, head = two_evals(cli, tmp_path)
    code, out, _ = cli("evals", "compare", base, head)
    assert code == 1 and "regressed     math" in out and "still passing: 1" in out
    code, out, _ = cli("evals", "compare", head, base, "--json")
    assert code == 0 and [c["case_id"] for c in json.loads(out)["improved"]] == ["math"]


def test_an_unknown_eval_is_one_line_and_exit_2(cli, tmp_path: Path) -> None:
    two_evals(cli, tmp_path)
    code, out, err = cli("evals", "show", "nope")
    assert (code, out, err) == (2, "", "agentstage: unknown eval: nope\n")
