"""Dataset loading: every field checked, a bad line named with its number and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentstage.runtime.errors import DatasetError
from agentstage.runtime.evals.dataset import Assertion, JudgeSpec, load_dataset, parse_case


def write(tmp_path: Path, *lines: object) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def test_loads_cases_with_their_lines_and_skips_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, {"id": "a", "input": "hi", "required_tools": ["calculator"]}, "", {"input": "two"})
    first, second = load_dataset(path)
    assert (first.id, first.line, first.required_tools) == ("a", 1, ("calculator",))
    assert (second.id, second.line) == ("line-3", 3)


def test_reference_camel_case_fields_load_and_expected_output_is_a_contains_check() -> None:
    case = parse_case({"input": "q", "expectedOutput": "42", "forbiddenTools": ["shell_exec"],
                       "judgeRubric": "polite", "minJudgeScore": 0.5})
    assert case.assertions == (Assertion("contains", value="42"),)
    assert case.forbidden_tools == ("shell_exec",) and case.judge == JudgeSpec("polite", 0.5)


@pytest.mark.parametrize(("raw", "field"), [
    ({"input": ""}, "input"),
    ({"prompt": "x", "input": "x"}, "prompt"),
    ({"input": "x", "assertions": [{"type": "fuzzy"}]}, "assertions[0].type"),
    ({"input": "x", "assertions": [{"type": "regex", "pattern": "("}]}, "assertions[0].pattern"),
    ({"input": "x", "assertions": [{"type": "contains"}]}, "assertions[0].value"),
    ({"input": "x", "assertions": [{"type": "equals", "value": "a", "pattern": "b"}]}, "assertions[0].pattern"),
    ({"input": "x", "assertions": [{"type": "json_schema", "schema": {"type": "nope"}}]}, "assertions[0].schema"),
    ({"input": "x", "required_tools": "calculator"}, "required_tools"),
    ({"input": "x", "forbidden_tools": [""]}, "forbidden_tools[0]"),
    ({"input": "x", "judge": {"rubric": "r", "min_score": 2}}, "judge.min_score"),
    ({"input": "x", "judge": {"rubrik": "r"}}, "judge.rubrik"),
    ({"input": "x", "agent": 7}, "agent"),
    ({"input": "x", "agent": "a", "workflow": "w"}, "workflow"),
])
def test_a_bad_field_is_named_with_its_line(tmp_path: Path, raw: dict, field: str) -> None:
    path = write(tmp_path, {"input": "fine"}, raw)
    with pytest.raises(DatasetError) as caught:
        load_dataset(path)
    assert (caught.value.line, caught.value.field) == (2, field)
    assert str(caught.value).startswith(f"{path} line 2: field {field!r}: ")


@pytest.mark.parametrize(("line", "reason"), [("{not json", "not a JSON object"), ("[1, 2]", "expected a JSON object")])
def test_a_line_that_is_not_an_object_is_named(tmp_path: Path, line: str, reason: str) -> None:
    with pytest.raises(DatasetError, match=rf"line 1: {reason}"):
        load_dataset(write(tmp_path, line))


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"line 2: field 'id': duplicate id 'a' \(first on line 1\)"):
        load_dataset(write(tmp_path, {"id": "a", "input": "x"}, {"id": "a", "input": "y"}))


def test_an_empty_or_missing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(DatasetError, match="no cases"):
        load_dataset(tmp_path / "empty.jsonl")
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(tmp_path / "missing.jsonl")
