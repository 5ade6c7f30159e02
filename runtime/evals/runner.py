"""The eval runner: each case a real recorded run on a System, checked, retried and optionally judged."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from agentstage.runtime._log import logger

from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.control.base import RunControl
from agentstage.runtime.control.local import LocalControl
from agentstage.runtime.errors import DatasetError, InvalidArgument, NotFound, Refused
from agentstage.runtime.evals.assertions import Check, check_case, check_tools
from agentstage.runtime.evals.dataset import EvalCase
from agentstage.runtime.evals.judge import DEFAULT_RUBRIC, judge_prompt, parse_verdict, refuse_unable_judge
from agentstage.runtime.evals.report import CaseResult, EvalReport
from agentstage.runtime.state.base import StoreReader
from agentstage.runtime.state.reader import RunRow
from agentstage.runtime.state.records import EvalCaseResult, EvalRun

__all__ = ["EvalOptions", "run_eval", "start_eval", "tools_used"]


@dataclass(frozen=True, slots=True)
class EvalOptions:
    """How to run a dataset.

    `timeout` bounds each attempt in seconds (None: the config's run timeout); a case whose run fails
    or times out is tried again up to `retries` times, a case whose checks fail is not. `judge`
    names the agent grading every answer (None: cases are not judged). Cases naming neither an agent
    nor a workflow run `workflow` when it is set, else `agent`.
    """

    agent: str = "default"
    workflow: str | None = None
    workers: int = 4
    timeout: float | None = None
    retries: int = 1
    fail_under: float = 1.0
    judge: str | None = None
    judge_rubric: str = ""
    judge_min_score: float = 0.7
    eval_id: str = field(default_factory=new_id)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise InvalidArgument("workers", "must be at least 1")
        if self.retries < 0:
            raise InvalidArgument("retries", "must be 0 or more")
        if self.timeout is not None and self.timeout <= 0:
            raise InvalidArgument("timeout", "must be more than 0 seconds")
        if not 0 <= self.fail_under <= 1:
            raise InvalidArgument("fail_under", "expected a fraction from 0 to 1 (0.8 for 80%)")
        if not 0 <= self.judge_min_score <= 1:
            raise InvalidArgument("judge_min_score", "expected a number from 0 to 1")

    @property
    def target(self) -> str:
        """What cases naming no agent or workflow run: `agent` or `workflow:<name>`."""
        return f"workflow:{self.workflow}" if self.workflow else self.agent

    def settings(self) -> dict[str, Any]:
        """The options as stored with the eval record (its id aside)."""
        return {"agent": self.agent, "workflow": self.workflow, "workers": self.workers, "timeout": self.timeout,
                "retries": self.retries, "fail_under": self.fail_under, "judge": self.judge, "judge_rubric": self.judge_rubric,
                "judge_min_score": self.judge_min_score}


def run_eval(system: Any, cases: Sequence[EvalCase], options: EvalOptions | None = None, *, dataset: str = "",
             on_result: Callable[[CaseResult], None] | None = None, control: RunControl | None = None) -> EvalReport:
    """Run every case on `system` (a started System), `options.workers` at a time; results in dataset order.

    Runs start through `control` (the System's own LocalControl when None; a QueuedControl sends
    them to the coordinator and its workers).

    The eval is stored as it goes: its record (`running`), each case's result once it ends, then the
    totals (`completed`; `failed` when the runner itself broke off).

    Raises DatasetError for a case naming an unknown agent or asking for a judge when none is given,
    and ConfigError when the judge's provider cannot judge (the offline scripted one), before any case runs.
    """
    options = options if options is not None else EvalOptions()
    control = control if control is not None else LocalControl(system)
    return _execute(control, cases, options, _begin(system, cases, options, dataset), on_result)


def start_eval(system: Any, cases: Sequence[EvalCase], options: EvalOptions, *, dataset: str = "",
               control: RunControl | None = None) -> threading.Thread:
    """Check the cases and store the eval as `running` now, then run it on a background thread (returned).

    Raises what `run_eval` raises before any case runs; later failures end up in the eval record.
    """
    record = _begin(system, cases, options, dataset)
    control = control if control is not None else LocalControl(system)

    def work() -> None:
        try:
            _execute(control, cases, options, record, None)
        except Exception as exc:  # NOTE: the eval record says it failed; the thread must not die noisily
            logger.warning("eval {} broke off: {!r}", options.eval_id, exc)

    thread = threading.Thread(target=work, name=f"eval:{options.eval_id}", daemon=True)
    thread.start()
    return thread


def _begin(system: Any, cases: Sequence[EvalCase], options: EvalOptions, dataset: str) -> EvalRun:
    agents = {spec.name for spec in system.agents()}
    for case in cases:
        kind, name = _target(case, options)
        known = agents if kind == "agent" else set(system.workflows.names())
        if name not in known:
            raise DatasetError(dataset or "<cases>", case.line, kind if (case.agent or case.workflow) else "",
                               f"unknown {kind} {name!r} ({kind}s: {', '.join(sorted(known))})")
        if case.judge is not None and options.judge is None:
            raise DatasetError(dataset or "<cases>", case.line, "judge", "the case asks for a judge; run with a judge "
                                                                         "(agentstage eval --judge)")
    if options.judge is not None:
        if options.judge not in agents:
            raise InvalidArgument("judge", f"unknown agent {options.judge!r}")
        refuse_unable_judge(system.provider_name(options.judge), "judge")
    record = EvalRun(options.eval_id, options.target, "running", utc_now(), options.fail_under, dataset,
                     cases=len(cases), options=options.settings())
    system.write((record,))
    return record


def _execute(control: RunControl, cases: Sequence[EvalCase], options: EvalOptions, record: EvalRun,
             on_result: Callable[[CaseResult], None] | None) -> EvalReport:
    system = control.system
    positions = {case.id: n for n, case in enumerate(cases)}
    in_flight: set[str] = set()
    stopping = threading.Event()

    def one(case: EvalCase) -> CaseResult:
        if stopping.is_set():
            raise _Interrupted(case.id)
        result = _run_case(control, case, options, in_flight, stopping)
        system.write((EvalCaseResult(options.eval_id, case.id, positions[case.id], result.status, result.run_id,
                                     result.to_dict(), utc_now()),))
        if on_result is not None:
            on_result(result)
        return result

    pool = ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="eval")
    try:
        results = list(pool.map(one, cases))
    except BaseException as exc:
        # NOTE: an interrupted eval (Ctrl-C) starts no more cases or retries and stops the runs it has in flight;
        # its worker threads stop waiting at once (the interpreter joins them at exit).
        stopping.set()
        pool.shutdown(wait=False, cancel_futures=True)
        for run_id in list(in_flight):
            _cancel(control, run_id)
        if system.running:
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
            system.write((dataclasses.replace(record, status="failed", ended_at=utc_now(), error=reason),))
        raise
    pool.shutdown()
    report = EvalReport(options.eval_id, record.dataset, options.target, record.started_at, utc_now(), tuple(results),
                        options.fail_under)
    system.write((dataclasses.replace(record, status="completed", ended_at=report.ended_at, passed=report.passed,
                                      pass_rate=round(report.pass_rate, 4), summary=report.summary()),))
    return report


class _Interrupted(Exception):
    """The eval was interrupted while this case waited for its run."""


def _await(control: RunControl, run_id: str, timeout: float, stopping: threading.Event) -> RunRow | None:
    """The run's row once it settled within `timeout` s (None past it), checking every 0.2 s whether the eval stops."""
    deadline = time.monotonic() + timeout
    while True:
        row = control.wait(run_id, max(0.0, min(0.2, deadline - time.monotonic())))
        if row is not None:
            return row
        if stopping.is_set():
            raise _Interrupted
        if time.monotonic() >= deadline:
            return None


def _start(control: RunControl, kind: str, name: str, prompt: str, metadata: dict[str, Any]) -> str:
    workflow = name if kind == "workflow" else None
    return control.start(prompt, agent=name if workflow is None else "default", workflow=workflow,
                         metadata=metadata).run_id


def _cancel(control: RunControl, run_id: str) -> None:
    try:
        control.cancel(run_id, "the eval stopped waiting for it")
    except (Refused, NotFound):
        pass  # NOTE: it ended on its own meanwhile


def _waiting_node(control: RunControl, row: RunRow) -> str | None:
    """The node a waiting graph run waits at, from its latest status events (`last_seq` is the last of them)."""
    recent = control.system.reader().events(row.run_id, after_seq=max(0, row.last_seq - 5), limit=10)
    waiting = [e for e in recent if e.type == "run.waiting"]
    return waiting[-1].node if waiting else None


def _run_case(control: RunControl, case: EvalCase, options: EvalOptions, in_flight: set[str],
              stopping: threading.Event) -> CaseResult:
    system = control.system
    began = time.monotonic()
    timeout = options.timeout if options.timeout is not None else system.config.run_timeout
    kind, name = _target(case, options)
    metadata = {"eval_id": options.eval_id, "eval_case": case.id}
    run_ids: list[str] = []
    output, error, tokens = "", None, 0
    for attempt in range(1, options.retries + 2):
        if stopping.is_set():
            error = "interrupted"
            break
        attempt_metadata = {**metadata, "eval_attempt": attempt}
        run_id = _start(control, kind, name, case.input, attempt_metadata)
        run_ids.append(run_id)
        in_flight.add(run_id)
        try:
            row = _await(control, run_id, timeout, stopping)
        except _Interrupted:
            output, error = "", "interrupted"
            break
        finally:
            in_flight.discard(run_id)
        if row is None:
            _cancel(control, run_id)
            output, error = "", f"timed out after {timeout:g}s"
            continue
        output = row.output or ""
        tokens += row.total_tokens
        if row.status == "completed":
            error = None
            break
        error = (f"run waiting for input at node {_waiting_node(control, row)!r}" if row.status == "waiting" else
                 f"run {row.status}: {row.error}")
    used = tools_used(system.reader(), run_ids[-1])
    checks = check_case(case, output, used) if error is None else []
    judge = None
    if error is None and (options.judge is not None):
        judge, check = _judge(control, case, output, options, metadata, timeout)
        checks.append(check)
    passed = error is None and all(c.passed for c in checks)
    constrained = bool(case.required_tools or case.forbidden_tools)
    tools_held = (error is None and all(c.passed for c in check_tools(case, used))) if constrained else None
    return CaseResult(case.id, "passed" if passed else "error" if error else "failed", run_ids[-1], tuple(run_ids),
                      output, error, tuple(checks), tuple(used), judge, round(time.monotonic() - began, 3), tokens,
                      name if kind == "agent" else f"workflow:{name}", case.line, case.tags, tools_held)


def _target(case: EvalCase, options: EvalOptions) -> tuple[str, str]:
    """("agent" | "workflow", name) that runs `case`."""
    if case.workflow:
        return "workflow", case.workflow
    if case.agent:
        return "agent", case.agent
    return ("workflow", options.workflow) if options.workflow else ("agent", options.agent)


def _judge(control: RunControl, case: EvalCase, output: str, options: EvalOptions, metadata: dict[str, Any],
           timeout: float) -> tuple[dict[str, Any], Check]:
    rubric = case.judge.rubric if case.judge else options.judge_rubric or DEFAULT_RUBRIC
    minimum = case.judge.min_score if case.judge else options.judge_min_score
    name = f"judge score >= {minimum:g}"
    run_id = _start(control, "agent", options.judge, judge_prompt(case.input, output, rubric),
                    {**metadata, "eval_judge": True})
    judged: dict[str, Any] = {"run_id": run_id, "rubric": rubric, "min_score": minimum, "score": None, "reason": ""}
    row = control.wait(run_id, timeout)
    if row is None:
        _cancel(control, run_id)
        return judged, Check(name, False, f"the judge timed out after {timeout:g}s")
    if row.status != "completed":
        return judged, Check(name, False, f"the judge's run {row.status}: {row.error}")
    try:
        verdict = parse_verdict(row.output or "")
    except ValueError as exc:
        return judged, Check(name, False, str(exc))
    judged.update(score=verdict.score, reason=verdict.reason)
    passed = verdict.score >= minimum
    return judged, Check(name, passed, "" if passed else f"scored {verdict.score:g}: {verdict.reason}")


def tools_used(reader: StoreReader, run_id: str) -> list[str]:
    """Names of the tools called by a run and, recursively, by its child runs, in call order, each once."""
    names: list[str] = []
    pending = [run_id]
    while pending:
        current = pending.pop(0)
        names += [e.tool for e in reader.events(current, limit=100_000) if e.type == "tool.call" and e.tool]
        pending += _children(reader, current)
    return list(dict.fromkeys(names))


def _children(reader: StoreReader, run_id: str) -> list[str]:
    connection = getattr(reader, "connection", None)
    if connection is None:  # NOTE: the Redis store keeps no parent index; delegations name their children
        return [e.data["child_run_id"] for e in reader.events(run_id, limit=100_000) if e.data.get("child_run_id")]
    return [row[0] for row in connection.execute(
        "SELECT run_id FROM runs WHERE parent_run_id = ? ORDER BY created_at, run_id", (run_id,))]
