"""Evaluations: JSONL datasets of cases, each run as a real recorded run and checked (assertions,
tools, an optional judge agent), with a pass rate that must reach `fail_under`."""

from agentstage.runtime.lazy import lazy_exports as _lazy_exports

__getattr__ = _lazy_exports(__name__, {
    "Check": "agentstage.runtime.evals.assertions",
    "Assertion": "agentstage.runtime.evals.dataset",
    "EvalCase": "agentstage.runtime.evals.dataset",
    "JudgeSpec": "agentstage.runtime.evals.dataset",
    "load_dataset": "agentstage.runtime.evals.dataset",
    "CaseResult": "agentstage.runtime.evals.report",
    "EvalReport": "agentstage.runtime.evals.report",
    "EvalOptions": "agentstage.runtime.evals.runner",
    "run_eval": "agentstage.runtime.evals.runner",
})

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
