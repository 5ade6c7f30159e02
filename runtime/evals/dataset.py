"""Eval datasets: JSONL files, one case a line, read strictly so a bad line is named with its field."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from agentstage.runtime.errors import DatasetError

__all__ = ["ASSERTION_TYPES", "Assertion", "EvalCase", "JudgeSpec", "load_dataset", "parse_case"]

ASSERTION_TYPES = ("contains", "not_contains", "regex", "equals", "json_valid", "json_schema")

# NOTE: the camelCase names are the reference runner's; datasets written for it load unchanged.
_ALIASES = {"expectedOutput": "expected_output", "requiredTools": "required_tools", "forbiddenTools": "forbidden_tools",
            "judgeRubric": "judge_rubric", "minJudgeScore": "min_judge_score"}
_CASE_KEYS = frozenset({"id", "input", "agent", "workflow", "expected_output", "assertions", "required_tools",
                        "forbidden_tools", "judge", "judge_rubric", "min_judge_score", "tags", "metadata"})
_ASSERTION_KEYS = {"contains": {"value", "case_sensitive"}, "not_contains": {"value", "case_sensitive"},
                   "regex": {"pattern", "case_sensitive"}, "equals": {"value"}, "json_valid": set(),
                   "json_schema": {"schema"}}


@dataclass(frozen=True, slots=True)
class Assertion:
    """One check on a run's final answer: `type` is one of ASSERTION_TYPES."""

    type: str
    value: str | None = None
    pattern: str | None = None
    schema: dict[str, Any] | None = None
    case_sensitive: bool = False

    def to_dict(self) -> dict[str, Any]:
        keys = _ASSERTION_KEYS[self.type]
        return {"type": self.type, **{k: getattr(self, k) for k in sorted(keys)}}


@dataclass(frozen=True, slots=True)
class JudgeSpec:
    """What a judge agent grades the answer against, and the score (0..1) it must reach."""

    rubric: str
    min_score: float = 0.7


@dataclass(frozen=True, slots=True)
class EvalCase:
    """One case of a dataset: a prompt for an agent and the checks its run must pass."""

    id: str
    input: str
    line: int = 0
    agent: str | None = None
    assertions: tuple[Assertion, ...] = ()
    required_tools: tuple[str, ...] = ()
    forbidden_tools: tuple[str, ...] = ()
    judge: JudgeSpec | None = None
    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    workflow: str | None = None


def load_dataset(path: str | Path) -> list[EvalCase]:
    """Every case of the JSONL file at `path` (blank lines skipped).

    Raises DatasetError naming the line and field of the first bad case, a duplicate id, or an
    unreadable or empty file.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(name, 0, "", f"cannot read the dataset: {getattr(exc, 'strerror', None) or exc}") from None
    cases: list[EvalCase] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except ValueError as exc:
            raise DatasetError(name, number, "", f"not a JSON object: {exc}") from None
        case = parse_case(raw, number, name)
        if case.id in seen:
            raise DatasetError(name, number, "id", f"duplicate id {case.id!r} (first on line {seen[case.id]})")
        seen[case.id] = number
        cases.append(case)
    if not cases:
        raise DatasetError(name, 0, "", "the dataset has no cases")
    return cases


def parse_case(raw: Any, line: int = 0, path: str = "<case>") -> EvalCase:
    """One case from its decoded JSON; raises DatasetError naming the field that cannot be used."""
    def bad(key: str, reason: str) -> DatasetError:
        return DatasetError(path, line, key, reason)

    if not isinstance(raw, Mapping):
        raise bad("", f"expected a JSON object, got {type(raw).__name__}")
    data = {_ALIASES.get(k, k): v for k, v in raw.items()}
    unknown = sorted(set(data) - _CASE_KEYS)
    if unknown:
        raise bad(unknown[0], f"unknown field (expected {', '.join(sorted(_CASE_KEYS))})")
    prompt = data.get("input")
    if not isinstance(prompt, str) or not prompt.strip():
        raise bad("input", "required: a non-empty string")
    case_id = data.get("id", f"line-{line}")
    if not isinstance(case_id, (str, int)) or isinstance(case_id, bool) or not str(case_id).strip():
        raise bad("id", "expected a non-empty string")
    agent, workflow = data.get("agent"), data.get("workflow")
    if agent is not None and (not isinstance(agent, str) or not agent.strip()):
        raise bad("agent", "expected an agent name")
    if workflow is not None and (not isinstance(workflow, str) or not workflow.strip()):
        raise bad("workflow", "expected a workflow name")
    if agent is not None and workflow is not None:
        raise bad("workflow", "a case runs an agent or a workflow, not both")
    assertions = [_assertion(a, f"assertions[{i}]", bad) for i, a in enumerate(_list(data, "assertions", bad))]
    expected = data.get("expected_output")
    if expected is not None:
        if not isinstance(expected, str):
            raise bad("expected_output", "expected a string")
        assertions.insert(0, Assertion("contains", value=expected))
    metadata = data.get("metadata", {})
    if not isinstance(metadata, Mapping):
        raise bad("metadata", "expected an object")
    return EvalCase(str(case_id), prompt, line, agent, tuple(assertions), _names(data, "required_tools", bad),
                    _names(data, "forbidden_tools", bad), _judge(data, bad), _names(data, "tags", bad), dict(metadata),
                    workflow)


def _list(data: Mapping[str, Any], key: str, bad: Any) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise bad(key, "expected a list")
    return value


def _names(data: Mapping[str, Any], key: str, bad: Any) -> tuple[str, ...]:
    values = _list(data, key, bad)
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise bad(f"{key}[{i}]", "expected a non-empty string")
    return tuple(values)


def _assertion(raw: Any, key: str, bad: Any) -> Assertion:
    if not isinstance(raw, Mapping):
        raise bad(key, "expected an object with a 'type'")
    kind = raw.get("type")
    if kind not in _ASSERTION_KEYS:
        raise bad(f"{key}.type", f"unknown assertion type {kind!r} (expected {', '.join(ASSERTION_TYPES)})")
    unknown = sorted(set(raw) - _ASSERTION_KEYS[kind] - {"type"})
    if unknown:
        raise bad(f"{key}.{unknown[0]}", f"not a field of a {kind} assertion")
    case_sensitive = raw.get("case_sensitive", False)
    if not isinstance(case_sensitive, bool):
        raise bad(f"{key}.case_sensitive", "expected true or false")
    if kind in ("contains", "not_contains", "equals"):
        if not isinstance(raw.get("value"), str):
            raise bad(f"{key}.value", "required: a string")
        return Assertion(kind, value=raw["value"], case_sensitive=case_sensitive)
    if kind == "regex":
        pattern = raw.get("pattern")
        if not isinstance(pattern, str):
            raise bad(f"{key}.pattern", "required: a regular expression")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise bad(f"{key}.pattern", f"not a regular expression: {exc}") from None
        return Assertion(kind, pattern=pattern, case_sensitive=case_sensitive)
    if kind == "json_schema":
        schema = raw.get("schema")
        if not isinstance(schema, Mapping):
            raise bad(f"{key}.schema", "required: a JSON Schema object")
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise bad(f"{key}.schema", f"not a valid JSON Schema: {exc.message}") from None
        return Assertion(kind, schema=dict(schema))
    return Assertion(kind)


def _judge(data: Mapping[str, Any], bad: Any) -> JudgeSpec | None:
    judge = data.get("judge")
    rubric, score = data.get("judge_rubric"), data.get("min_judge_score")
    if isinstance(judge, Mapping):
        unknown = sorted(set(judge) - {"rubric", "min_score"})
        if unknown:
            raise bad(f"judge.{unknown[0]}", "not a field of judge (expected rubric, min_score)")
        rubric, score = judge.get("rubric", rubric), judge.get("min_score", score)
        where = ("judge.rubric", "judge.min_score")
    elif isinstance(judge, str):
        rubric, where = judge, ("judge", "min_judge_score")
    elif judge is None:
        where = ("judge_rubric", "min_judge_score")
    else:
        raise bad("judge", "expected a rubric string or an object {rubric, min_score}")
    if rubric is None and score is None:
        return None
    if not isinstance(rubric, str) or not rubric.strip():
        raise bad(where[0], "required: a non-empty rubric for the judge")
    if score is None:
        return JudgeSpec(rubric)
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1:
        raise bad(where[1], "expected a number from 0 to 1")
    return JudgeSpec(rubric, float(score))

