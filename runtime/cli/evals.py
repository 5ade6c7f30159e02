"""`agentstage eval DATASET.jsonl`: run an eval dataset on the embedded runtime and report its pass rate."""

from __future__ import annotations

import argparse
import sys

from agentstage.runtime.cli.common import ExitCode, add_config_flags, config_from_args, emit_json, fail
from agentstage.runtime.errors import DatasetError, InvalidArgument

__all__ = ["register"]


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "eval", help="run an eval dataset (JSONL, one case a line) and check every answer",
        description="Run each case of a JSONL dataset as a recorded run, check its answer and tools, "
                    "and exit 1 when the pass rate is below --fail-under.",
        epilog="example: agentstage eval examples/eval.jsonl --workers 2 --markdown",
    )
    add_config_flags(parser, "provider", "model", "max_iterations", "tools", "tool_choice", "max_output_tokens")
    parser.add_argument("dataset", help="the JSONL file: one case a line ({input, assertions, ...})")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--agent", default="default", help="agent running cases that name none (default: default)")
    target.add_argument("--workflow", default=None,
                        help="workflow running cases that name no agent or workflow (default: none; --agent runs them)")
    parser.add_argument("--workers", type=int, default=4, help="cases run at once (default: 4)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds each attempt may take (default: AGENTSTAGE_RUN_TIMEOUT)")
    parser.add_argument("--retries", type=int, default=1,
                        help="more attempts for a case whose run fails or times out (default: 1)")
    parser.add_argument("--fail-under", type=float, default=1.0,
                        help="pass rate from 0 to 1 below which the command exits 1 (default: 1.0)")
    parser.add_argument("--max-cases", type=int, default=None, help="run only the first N cases (default: all)")
    parser.add_argument("--judge", action="store_true",
                        help="grade every answer with a judge agent (a model provider; not the offline one)")
    parser.add_argument("--judge-provider", default=None, help="the judge's provider (default: --provider)")
    parser.add_argument("--judge-model", default=None, help="the judge's model (default: --model)")
    parser.add_argument("--judge-rubric", default="", help="rubric for cases without their own (default: a generic one)")
    parser.add_argument("--judge-min-score", type=float, default=0.7,
                        help="score from 0 to 1 a judged case needs (default: 0.7)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the report as one JSON object")
    output.add_argument("--markdown", action="store_true", help="print the report as a Markdown table")
    parser.set_defaults(handler=eval_command)


def eval_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.evals.dataset import load_dataset
    from agentstage.runtime.evals.judge import JUDGE_AGENT, judge_spec, refuse_unable_judge
    from agentstage.runtime.evals.runner import EvalOptions, run_eval
    from agentstage.runtime.llm.factory import explain_choice, resolve_provider_name
    from agentstage.runtime.system import System

    try:
        cases = load_dataset(args.dataset)
        if args.max_cases is not None:
            if args.max_cases < 1:
                raise InvalidArgument("--max-cases", "must be at least 1")
            cases = cases[: args.max_cases]
        options = EvalOptions(agent=args.agent, workflow=args.workflow, workers=args.workers, timeout=args.timeout, retries=args.retries,
                              fail_under=args.fail_under, judge=JUDGE_AGENT if args.judge else None,
                              judge_rubric=args.judge_rubric, judge_min_score=args.judge_min_score)
    except InvalidArgument as exc:
        return fail(f"{_flag(exc.field)}: {exc.reason}", ExitCode.USAGE)
    except DatasetError as exc:
        return fail(str(exc), ExitCode.USAGE)
    config = config_from_args(args)
    agents = []
    if args.judge:
        refuse_unable_judge(resolve_provider_name(config, args.judge_provider),
                            "--judge-provider" if args.judge_provider else "AGENTSTAGE_PROVIDER")
        agents.append(judge_spec(config, args.judge_provider, args.judge_model))
    if resolve_provider_name(config) == "scripted" and not args.json:
        print(f"agentstage: using the offline scripted provider ({explain_choice(config)})", file=sys.stderr)
    with System(config, agents=agents) as system:
        try:
            report = run_eval(system, cases, options, dataset=args.dataset)
        except DatasetError as exc:
            return fail(str(exc), ExitCode.USAGE)
    if args.json:
        emit_json(report.to_dict())
    else:
        print(report.to_markdown() if args.markdown else report.to_text())
    return ExitCode.OK if report.ok else ExitCode.RUN_FAILED


def _flag(field: str) -> str:
    return field if field.startswith("--") else "--" + field.replace("_", "-")
