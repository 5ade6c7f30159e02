"""`agentstage runs list|show`: read runs and their event timelines from the state file."""

from __future__ import annotations

import argparse
import dataclasses

from agentstage.runtime.clock import parse_ts
from agentstage.runtime.cli.common import ExitCode, add_config_flags, emit_json, stored_reader
from agentstage.runtime.cli.run import describe

__all__ = ["register"]


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser("runs", help="list runs or show one run's timeline",
                              description="Read runs from the state file.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="runs, newest first", epilog="example: agentstage runs list --status failed")
    add_config_flags(listing)
    listing.add_argument("--status", choices=["queued", "running", "waiting", "completed", "failed", "cancelled"])
    listing.add_argument("--session", help="only runs of this session")
    listing.add_argument("--limit", type=int, default=20, help="how many runs (default: 20)")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=list_runs)
    show = actions.add_parser("show", help="one run and its event timeline", epilog="example: agentstage runs show RUN_ID")
    add_config_flags(show)
    show.add_argument("run_id")
    show.add_argument("--json", action="store_true", help="print {run, events} as JSON")
    show.set_defaults(handler=show_run)


def list_runs(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise SystemExit("agentstage: --limit must be at least 1")
    reader = stored_reader(args)
    rows = reader.list_runs(status=args.status, session_id=args.session, limit=args.limit).items if reader else []
    if args.json:
        emit_json([dataclasses.asdict(row) for row in rows])
        return ExitCode.OK
    if not rows:
        print("no runs yet")
        return ExitCode.OK
    print(f"{'RUN ID':<32}  {'STATUS':<9}  {'AGENT':<12}  {'CREATED':<24}  {'SECONDS':>7}  {'TOKENS':>6}")
    for row in rows:
        print(f"{row.run_id:<32}  {row.status:<9}  {(row.agent or row.workflow or '-')[:12]:<12}  {row.created_at:<24}"
              f"  {_seconds(row):>7}  {row.total_tokens:>6}")
    return ExitCode.OK


def show_run(args: argparse.Namespace) -> int:
    reader = stored_reader(args)
    if reader is None:
        from agentstage.runtime.errors import NotFound

        raise NotFound("run", args.run_id)
    run = reader.get_run(args.run_id)
    events = reader.events(args.run_id)
    if args.json:
        emit_json({"run": dataclasses.asdict(run), "events": [dataclasses.asdict(e) for e in events]})
        return ExitCode.OK
    what = f"workflow={run.workflow}" if run.workflow else f"agent={run.agent}" if run.agent else ""
    print(f"run {run.run_id}  status={run.status}  {what}  session={run.session_id}  tokens={run.total_tokens}"
          f"  seconds={_seconds(run)}")
    if run.parent_run_id:
        node = run.metadata.get("graph_node")
        at = f" at node {node}" + (f" (step {run.metadata['graph_step']})" if "graph_step" in run.metadata else "")
        print(f"part of graph run {run.parent_run_id}{at if node else ''}")
    print(f"input:  {run.input}")
    if run.output:
        print(f"output: {run.output}")
    if run.error:
        print(f"error:  {run.error}")
    for event in events:
        took = f"  ({_duration(event.duration_ms)})" if event.duration_ms is not None else ""
        print(f"  [{event.seq:>3}] {event.ts}  {describe(event)}{took}")
    return ExitCode.OK


def _duration(ms: float) -> str:
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def _seconds(row) -> str:
    if not row.ended_at or not row.started_at:
        return "-"
    return f"{(parse_ts(row.ended_at) - parse_ts(row.started_at)).total_seconds():.2f}"
