"""Eval results: one CaseResult per case, an EvalReport over them, as JSON, Markdown or plain lines."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from agentstage.runtime.evals.assertions import Check

__all__ = ["CaseResult", "EvalReport"]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """How one case went: `status` is passed, failed (a check failed) or error (its run failed or timed out)."""

    case_id: str
    status: str
    run_id: str
    run_ids: tuple[str, ...]
    output: str
    error: str | None
    checks: tuple[Check, ...]
    tools: tuple[str, ...]
    judge: dict[str, Any] | None
    seconds: float
    tokens: int
    agent: str = "default"
    line: int = 0
    tags: tuple[str, ...] = ()
    tool_constraints: bool | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "status": self.status, "passed": self.passed, "run_id": self.run_id,
                "run_ids": list(self.run_ids), "attempts": len(self.run_ids), "agent": self.agent, "line": self.line,
                "output": self.output, "error": self.error, "checks": [c.to_dict() for c in self.checks],
                "tools": list(self.tools), "judge": self.judge, "seconds": self.seconds, "tokens": self.tokens,
                "tags": list(self.tags), "tool_constraints": self.tool_constraints, "reason": self.reason()}

    def reason(self) -> str:
        """Why the case did not pass (empty when it did)."""
        if self.error:
            return self.error
        return "; ".join(f"{c.name}: {c.detail}" for c in self.checks if not c.passed)


@dataclass(frozen=True, slots=True)
class EvalReport:
    """An eval run over a dataset: its cases' results and whether the pass rate reaches `fail_under`."""

    eval_id: str
    dataset: str
    agent: str
    started_at: str
    ended_at: str
    results: tuple[CaseResult, ...]
    fail_under: float = 1.0

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def pass_rate(self) -> float:
        return self.passed / len(self.results) if self.results else 0.0

    @property
    def ok(self) -> bool:
        return self.pass_rate >= self.fail_under

    def summary(self) -> dict[str, Any]:
        """Totals: cases, passed, failed, errors, pass rate, latency (mean/p50/p95 seconds), tokens,
        tool-constraint accuracy and the same counts per tag."""
        seconds = sorted(r.seconds for r in self.results) or [0.0]
        return {"cases": len(self.results), "passed": self.passed,
                "failed": sum(1 for r in self.results if r.status == "failed"),
                "errors": sum(1 for r in self.results if r.status == "error"),
                "pass_rate": round(self.pass_rate, 4), "fail_under": self.fail_under, "ok": self.ok,
                "seconds_mean": round(statistics.fmean(seconds), 3), "seconds_p50": _quantile(seconds, 0.5),
                "seconds_p95": _quantile(seconds, 0.95), "tokens": sum(r.tokens for r in self.results),
                "tool_accuracy": _tool_accuracy(self.results), "tags": _per_tag(self.results)}

    def to_dict(self) -> dict[str, Any]:
        return {"eval_id": self.eval_id, "dataset": self.dataset, "agent": self.agent, "started_at": self.started_at,
                "ended_at": self.ended_at, "summary": self.summary(), "cases": [r.to_dict() for r in self.results]}

    def to_markdown(self) -> str:
        s = self.summary()
        lines = [f"# Eval {self.eval_id}", "",
                 f"Dataset `{self.dataset}`, agent `{self.agent}`: **{s['passed']}/{s['cases']} passed** "
                 f"({s['pass_rate']:.0%}, needs {self.fail_under:.0%}), {s['errors']} errors, "
                 f"p50 {s['seconds_p50']}s, p95 {s['seconds_p95']}s, {s['tokens']} tokens.", "",
                 "| case | result | run | tools | why |", "|---|---|---|---|---|"]
        lines += [f"| {_cell(r.case_id)} | {r.status} | `{r.run_id}` | {_cell(', '.join(r.tools))} | {_cell(r.reason())} |"
                  for r in self.results]
        if s["tool_accuracy"] is not None:
            lines += ["", f"Tool constraints held in {s['tool_accuracy']:.0%} of the cases that set them."]
        if s["tags"]:
            lines += ["", "| tag | cases | passed | pass rate |", "|---|---|---|---|"]
            lines += [f"| {_cell(tag)} | {t['cases']} | {t['passed']} | {t['pass_rate']:.0%} |"
                      for tag, t in s["tags"].items()]
        return "\n".join(lines)

    def to_text(self) -> str:
        s = self.summary()
        lines = [f"{r.status.upper():<6} {r.case_id}  run {r.run_id}" + (f"  ({r.reason()})" if not r.passed else "")
                 for r in self.results]
        lines.append(f"eval {self.eval_id}: {s['passed']}/{s['cases']} passed ({s['pass_rate']:.0%}; "
                     f"fail-under {self.fail_under:.0%}) -> {'ok' if self.ok else 'below fail-under'}")
        return "\n".join(lines)


def _tool_accuracy(results: tuple[CaseResult, ...]) -> float | None:
    """Share of the cases with required or forbidden tools whose constraints all held (None when no case sets any)."""
    judged = [r.tool_constraints for r in results if r.tool_constraints is not None]
    return round(sum(judged) / len(judged), 4) if judged else None


def _per_tag(results: tuple[CaseResult, ...]) -> dict[str, dict[str, Any]]:
    """cases, passed and pass rate of the cases carrying each tag, tags in name order."""
    tags: dict[str, list[CaseResult]] = {}
    for result in results:
        for tag in result.tags:
            tags.setdefault(tag, []).append(result)
    return {tag: {"cases": len(rs), "passed": sum(1 for r in rs if r.passed),
                  "pass_rate": round(sum(1 for r in rs if r.passed) / len(rs), 4)} for tag, rs in sorted(tags.items())}


def _quantile(values: list[float], q: float) -> float:
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
