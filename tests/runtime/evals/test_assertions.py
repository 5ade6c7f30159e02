"""Assertion checks on answers and tool constraints on the tools a run (and its children) called."""

from __future__ import annotations

import pytest

from agentstage.runtime.evals.assertions import check_answer, check_tools
from agentstage.runtime.evals.dataset import Assertion, EvalCase

SCHEMA = {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "integer"}}}


@pytest.mark.parametrize(("assertion", "output", "passed"), [
    (Assertion("contains", value="FORTY"), "it is forty-two", True),
    (Assertion("contains", value="FORTY", case_sensitive=True), "it is forty-two", False),
    (Assertion("not_contains", value="error"), "all fine", True),
    (Assertion("not_contains", value="error"), "an Error happened", False),
    (Assertion("regex", pattern=r"^\d+$"), "42", True),
    (Assertion("regex", pattern=r"^\d+$"), "about 42", False),
    (Assertion("equals", value="42"), " 42\n", True),
    (Assertion("equals", value="42"), "42.0", False),
    (Assertion("json_valid"), '{"a": 1}', True),
    (Assertion("json_valid"), "```json\n[1, 2]\n```", True),
    (Assertion("json_valid"), "{'a': 1}", False),
    (Assertion("json_schema", schema=SCHEMA), '{"answer": 42}', True),
    (Assertion("json_schema", schema=SCHEMA), '{"answer": "42"}', False),
    (Assertion("json_schema", schema=SCHEMA), "not json", False),
])
def test_assertions(assertion: Assertion, output: str, passed: bool) -> None:
    check = check_answer(assertion, output)
    assert check.passed is passed
    assert bool(check.detail) is not passed, "a failed check says why, a passed one says nothing"


def test_a_schema_failure_names_where_in_the_document() -> None:
    check = check_answer(Assertion("json_schema", schema=SCHEMA), '{"answer": "x"}')
    assert check.detail.startswith("at answer: ")


def test_required_and_forbidden_tools() -> None:
    case = EvalCase("c", "q", required_tools=("calculator", "text_stats"), forbidden_tools=("shell_exec",))
    checks = {c.name: c.passed for c in check_tools(case, ["calculator", "shell_exec"])}
    assert checks == {"required tool calculator": True, "required tool text_stats": False,
                      "forbidden tool shell_exec": False}
