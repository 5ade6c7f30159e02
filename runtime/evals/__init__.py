"""Evaluations: JSONL datasets of cases, each run as a real recorded run and checked (assertions,
tools, an optional judge agent), with a pass rate that must reach `fail_under`."""

from agentstage.runtime.evals.assertions import Check
from agentstage.runtime.evals.dataset import Assertion, EvalCase, JudgeSpec, load_dataset
from agentstage.runtime.evals.report import CaseResult, EvalReport
from agentstage.runtime.evals.runner import EvalOptions, run_eval

__all__ = [
    "Assertion",
    "CaseResult",
    "Check",
    "EvalCase",
    "EvalOptions",
    "EvalReport",
    "JudgeSpec",
    "load_dataset",
    "run_eval",
]
