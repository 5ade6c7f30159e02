"""`agentstage evals list|show|compare`: read stored evaluations and compare two case by case."""

from __future__ import annotations

import argparse
from typing import Any

from agentstage.runtime.cli.common import ExitCode, add_config_flags, emit_json, stored_reader
from agentstage.runtime.errors import NotFound

__all__ = ["register"]


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser("evals", help="list stored evaluations, show one, or compare two",
                              description="Read the evaluations `agentstage eval` and the API stored.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="evaluations, newest first", epilog="example: agentstage evals list")
    add_config_flags(listing)
    listing.add_argument("--limit", type=int, default=20, help="how many evaluations (default: 20)")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=list_command)
    show = actions.add_parser("show", help="one evaluation and its cases", epilog="example: agentstage evals show EVAL_ID")
    add_config_flags(show)
    show.add_argument("eval_id")
    show.add_argument("--json", action="store_true", help="print the evaluation with its case results as JSON")
    show.set_defaults(handler=show_command)
    compare = actions.add_parser("compare", help="what changed from one evaluation to another; exit 1 on a regression",
                                 epilog="example: agentstage evals compare OLDER_ID NEWER_ID")
    add_config_flags(compare)
    compare.add_argument("base", help="the older evaluation")
    compare.add_argument("head", help="the newer evaluation")
    compare.add_argument("--json", action="store_true", help="print the comparison as JSON")
    compare.set_defaults(handler=compare_command)


def list_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.state.evals import list_evals

    if args.limit < 1:
        raise SystemExit("agentstage: --limit must be at least 1")
    reader = stored_reader(args)
    rows = list_evals(reader, limit=args.limit) if reader is not None else []
    if args.json:
        emit_json(rows)
        return ExitCode.OK
    if not rows:
        print("no evaluations yet")
        return ExitCode.OK
    print(f"{'EVAL ID':<32}  {'STATUS':<9}  {'PASSED':>9}  {'RATE':>5}  {'TARGET':<16}  {'STARTED':<24}  DATASET")
    for row in rows:
        print(f"{row['eval_id']:<32}  {row['status']:<9}  {row['passed']:>4}/{row['cases']:<4}  {_rate(row):>5}"
              f"  {row['agent'][:16]:<16}  {row['started_at']:<24}  {row['dataset']}")
    return ExitCode.OK


def show_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.state.evals import get_eval

    found = _get(args, lambda reader: get_eval(reader, args.eval_id), args.eval_id)
    if args.json:
        emit_json(found)
        return ExitCode.OK
    print(f"eval {found['eval_id']}  status={found['status']}  passed={found['passed']}/{found['cases']} ({_rate(found)};"
          f" fail-under {found['fail_under']:.0%})  target={found['agent']}  dataset={found['dataset']}")
    for case in found["results"]:
        why = f"  ({case['reason']})" if case.get("reason") else ""
        print(f"  {case['status'].upper():<6} {case['case_id']}  run {case['run_id']}{why}")
    return ExitCode.OK


def compare_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.state.evals import compare_evals

    diff = _get(args, lambda reader: compare_evals(reader, args.base, args.head), args.base)
    if args.json:
        emit_json(diff)
    else:
        print(f"{args.base} -> {args.head}: pass rate {_rate(diff['base'])} -> {_rate(diff['head'])}")
        for group in ("regressed", "improved", "still_failing", "added", "removed"):
            for change in diff[group]:
                side = change["head"] or change["base"]
                print(f"  {group:<13} {change['case_id']}  run {side['run_id']}"
                      + (f"  ({side['reason']})" if side["reason"] else ""))
        print(f"  still passing: {len(diff['still_passing'])}")
    return ExitCode.RUN_FAILED if diff["regressed"] else ExitCode.OK


def _get(args: argparse.Namespace, read: Any, key: str) -> Any:
    reader = stored_reader(args)
    if reader is None:
        raise NotFound("eval", key)
    return read(reader)


def _rate(row: dict[str, Any]) -> str:
    return "-" if row["pass_rate"] is None else f"{row['pass_rate']:.0%}"
