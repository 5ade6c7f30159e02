"""Checks of one eval case: assertions on the final answer and the tools its runs called."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

import jsonschema

from agentstage.runtime.evals.dataset import Assertion, EvalCase

__all__ = ["Check", "check_answer", "check_case", "check_tools"]


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one check: `name` says what was checked, `detail` why it failed (empty when passed)."""

    name: str
    passed: bool
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


def check_answer(assertion: Assertion, output: str) -> Check:
    """Apply one assertion to a run's final answer."""
    kind = assertion.type
    if kind in ("contains", "not_contains"):
        value = assertion.value or ""
        found = (value in output) if assertion.case_sensitive else (value.casefold() in output.casefold())
        wanted = kind == "contains"
        return Check(f"{kind} {value!r}", found == wanted,
                     "" if found == wanted else ("not in the answer" if wanted else "found in the answer"))
    if kind == "regex":
        flags = 0 if assertion.case_sensitive else re.IGNORECASE
        matched = re.search(assertion.pattern or "", output, flags) is not None
        return Check(f"regex {assertion.pattern!r}", matched, "" if matched else "no match in the answer")
    if kind == "equals":
        same = output.strip() == (assertion.value or "").strip()
        return Check(f"equals {assertion.value!r}", same, "" if same else f"the answer is {_short(output)!r}")
    try:
        document = json.loads(_unfenced(output))
    except ValueError as exc:
        return Check(kind, False, f"the answer is not JSON: {exc}")
    if kind == "json_valid":
        return Check(kind, True)
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(assertion.schema or {}).iter_errors(document))
    if error is None:
        return Check(kind, True)
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return Check(kind, False, f"at {where}: {error.message}")


def check_tools(case: EvalCase, used: Iterable[str]) -> list[Check]:
    """Required tools must each be called at least once and forbidden ones never, by the run or its child runs."""
    called = set(used)
    checks = [Check(f"required tool {name}", name in called, "" if name in called else "never called")
              for name in case.required_tools]
    checks += [Check(f"forbidden tool {name}", name not in called, "" if name not in called else "called")
               for name in case.forbidden_tools]
    return checks


def check_case(case: EvalCase, output: str, used: Iterable[str]) -> list[Check]:
    """Every assertion and tool constraint of `case` against one run's answer and tool calls."""
    return [check_answer(a, output) for a in case.assertions] + check_tools(case, used)


def _unfenced(text: str) -> str:
    """The JSON inside a ```json fence when the whole answer is one, else the answer itself."""
    match = re.fullmatch(r"\s*```(?:json)?\s*\n(.*?)\n\s*```\s*", text, re.DOTALL)
    return match.group(1) if match else text


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
