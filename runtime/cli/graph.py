"""`agentstage graph-run`, `graph-resume`, `graph-fork`: graph runs on the embedded runtime."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentstage.runtime.clock import new_id
from agentstage.runtime.cli.common import (ExitCode, add_config_flags, config_from_args, emit_json, fail,
                                                state_patch)
from agentstage.runtime.cli.progress import TICK, LiveLine

if TYPE_CHECKING:
    from agentstage.runtime.graph.builder import GraphError
    from agentstage.runtime.graph.result import GraphResult
    from agentstage.runtime.system import System

__all__ = ["findings", "register", "report_graph_error"]

_ENDS = ("run.completed", "run.failed", "run.waiting", "run.cancelled")


def register(verbs: argparse._SubParsersAction) -> None:
    run = verbs.add_parser(
        "graph-run", help="run a workflow (graph) to its end, durably checkpointed",
        description="Run a registered workflow, or a workflow JSON file, on INPUT.",
        epilog="examples:\n  agentstage graph-run --workflow triage -- \"calculate 6 * 7\"\n"
               "  agentstage graph-run --workflow secops --input-file examples/secops/trivy-shop-api.json\n"
               "  agentstage graph-run --workflow ./examples/review.json --json -- \"draft a release note\"")
    _common(run)
    run.add_argument("--workflow", default="basic", help="workflow name or path to a workflow JSON file (default: basic)")
    run.add_argument("--session", help="session id (default: a new session)")
    run.add_argument("--input-file", metavar="PATH", help="read the input from a file ('-' for stdin)")
    run.add_argument("input", nargs="*", help="the input (put it after --)")
    run.set_defaults(handler=run_command)

    resume = verbs.add_parser(
        "graph-resume", help="continue a graph run from its latest checkpoint",
        description="Continue RUN_ID from its latest committed checkpoint; completed nodes are not run again.",
        epilog="example: agentstage graph-resume RUN_ID --input \"approved\"")
    _common(resume)
    resume.add_argument("run_id", help="the graph run to continue")
    resume.add_argument("--input", help="answer for a run waiting for input")
    resume.set_defaults(handler=resume_command)

    fork = verbs.add_parser(
        "graph-fork", help="start a new run from a checkpoint of another run",
        description="Start a new run from checkpoint STEP of RUN_ID, optionally changing its state.",
        epilog="example: agentstage graph-fork RUN_ID --step 1 --set input='\"compute 2 + 2\"'")
    _common(fork)
    fork.add_argument("run_id", help="the run to fork")
    fork.add_argument("--step", type=int, required=True, help="checkpoint step to start from (see runs show)")
    fork.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="change a state key; VALUE is JSON when it parses, else text (repeatable)")
    fork.set_defaults(handler=fork_command)


def _common(parser: argparse.ArgumentParser) -> None:
    add_config_flags(parser, "provider", "model")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="node-by-node progress on stderr (default: when stderr is a terminal)")


def run_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.graph.builder import GraphError
    from agentstage.runtime.system import System

    text = " ".join(args.input).strip()
    if args.input_file:
        if text:
            return fail("give the input either after -- or with --input-file, not both", ExitCode.USAGE)
        try:
            text = sys.stdin.read() if args.input_file == "-" else Path(args.input_file).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            return fail(f"cannot read {args.input_file}: {exc}", ExitCode.USAGE)
    if not text.strip():
        return fail('the input is empty: agentstage graph-run --workflow NAME -- "your input"', ExitCode.USAGE)
    with System(config_from_args(args)) as system:
        workflow = args.workflow
        try:
            if workflow.endswith(".json") or Path(workflow).is_file():
                workflow = system.load_workflow(workflow, replace=True).name
            run_id = new_id()
            follower = _follow(system, run_id) if _progress(args) else None
            result = system.graph_run(workflow, text, session=args.session, run_id=run_id)
        except GraphError as exc:
            return report_graph_error(exc)
        if follower is not None:
            follower.join(timeout=5)
    return _report(result, args.json)


def resume_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.system import System

    with System(config_from_args(args)) as system:
        follower = _follow(system, args.run_id) if _progress(args) else None
        result = system.graph_resume(args.run_id, input=args.input)
        if follower is not None:
            follower.join(timeout=0 if result.note else 5)
    return _report(result, args.json)


_SHOWN = frozenset({"node.entered", "node.exited", *_ENDS})


def _progress(args: argparse.Namespace) -> bool:
    return sys.stderr.isatty() if args.progress is None else args.progress


def _follow(system: System, run_id: str) -> threading.Thread:
    """Print the run's node transitions on stderr as they commit, until the run ends or waits."""
    subscription = system.subscribe(run_id, _SHOWN)

    line = LiveLine()

    def follow() -> None:
        idle_until = time.monotonic() + system.config.run_timeout
        with subscription:
            while time.monotonic() < idle_until:
                if (event := subscription.get(timeout=TICK)) is None:
                    line.tick()
                    continue
                idle_until = time.monotonic() + system.config.run_timeout
                step = event.data.get("step")
                if event.type == "node.entered":
                    line.print(f"  step {step}: {event.node} ...")
                    line.start(f"step {step}: {event.node}")
                elif event.type == "node.exited":
                    outcome = f"failed: {event.error}" if event.error else f"-> {event.data.get('next_node') or 'end'}"
                    elapsed = line.stop()
                    line.print(f"  step {step}: {event.node} {outcome}" + (f"  ({elapsed:.2f}s)" if elapsed is not None else ""))
                else:
                    line.stop()
                    line.print(f"  {event.type}")
                    return

    thread = threading.Thread(target=follow, name="graph-progress", daemon=True)
    thread.start()
    return thread


def fork_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.system import System

    try:
        patch = state_patch(args.set)
    except ValueError as exc:
        return fail(str(exc), ExitCode.USAGE)
    with System(config_from_args(args)) as system:
        result = system.graph_fork(args.run_id, args.step, patch)
    return _report(result, args.json)


def report_graph_error(exc: GraphError) -> int:
    """Print every problem of an invalid graph or workflow file; exit code 2."""
    print(f"agentstage: {getattr(exc, 'source', exc.name)}: invalid workflow ({len(exc.problems)} problems)",
          file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)
    return ExitCode.USAGE


def findings(result: GraphResult) -> list[str]:
    """What the run did besides its answer: the nodes it went through and one line per structured
    state value (what tool nodes found), so a fallback answer does not hide the findings."""
    lines = [f"path: {' -> '.join(result.trace)}"] if result.trace else []
    for key, value in result.state.items():
        if isinstance(value, dict) and value:
            lines.append(f"  {key}: " + ", ".join(f"{name} {_brief(item)}" for name, item in value.items()))
    return lines


def _brief(value: Any, limit: int = 60) -> str:
    if isinstance(value, list):
        if value and all(isinstance(item, (str, int, float)) for item in value):
            text = ", ".join(map(str, value))
            return f"[{text}]" if len(text) <= limit else f"[{len(value)} items]"
        return str(len(value))
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else f"({len(text)} chars)"


def _report(result: GraphResult, as_json: bool) -> int:
    if as_json:
        emit_json(result.to_dict())
    elif result.status == "completed":
        if result.note:
            print(f"agentstage: {result.note}", file=sys.stderr)
        print(result.output)
        for line in findings(result):
            print(line, file=sys.stderr)
    elif result.status == "waiting":
        print(f"run {result.run_id} is waiting for input at node {result.waiting_for!r}"
              + (f": {result.prompt}" if result.prompt else ""), file=sys.stderr)
        print(f"continue with: agentstage graph-resume {result.run_id} --input TEXT", file=sys.stderr)
    if result.status == "failed":
        if as_json:
            return ExitCode.RUN_FAILED
        return fail(f"run {result.run_id} failed: {result.error}", ExitCode.RUN_FAILED)
    if not as_json:
        print(f"run_id: {result.run_id}", file=sys.stderr)
    return ExitCode.OK
