"""`runtime-workers`, `-queues`, `-dlq`, `-cancel`, `-requeue`, `-resume`, `-fork`: operate the distributed runtime."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from agentstage.runtime.cli.common import (ExitCode, add_config_flags, config_from_args, emit_json, fail,
                                                state_patch)
from agentstage.runtime.cli.distributed import REDIS_FLAGS

if TYPE_CHECKING:
    from agentstage.runtime.distributed.ops import RuntimeOps

__all__ = ["register"]

_FOLLOW_TIMEOUT = 3600.0


def _parser(verbs: argparse._SubParsersAction, name: str, help: str, example: str) -> argparse.ArgumentParser:
    parser = verbs.add_parser(name, help=help, epilog=f"example: {example}")
    add_config_flags(parser, *REDIS_FLAGS)
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def register(verbs: argparse._SubParsersAction) -> None:
    listing = _parser(verbs, "runtime-workers", "live workers with their last heartbeat",
                      "agentstage runtime-workers --all")
    listing.add_argument("--all", action="store_true", help="every worker that ever reported, stopped ones included")
    listing.set_defaults(handler=workers)
    _parser(verbs, "runtime-queues",
            "length, pending, lag and oldest age of each stream; DLQ and retry sizes; warnings for runs no live "
            "worker serves", "agentstage runtime-queues").set_defaults(handler=queues)
    cancel = _parser(verbs, "runtime-cancel", "cancel a run (a running one stops at its next step)",
                     "agentstage runtime-cancel RUN_ID")
    cancel.add_argument("run_id")
    cancel.add_argument("--reason", default="", help="recorded with the cancellation")
    cancel.set_defaults(handler=cancel_run)
    requeue = _parser(verbs, "runtime-requeue", "run a failed, cancelled or dead-lettered run again",
                      "agentstage runtime-requeue RUN_ID")
    requeue.add_argument("run_id")
    requeue.add_argument("--timeout", type=float, default=10.0,
                         help="seconds to wait for the coordinator's answer (default: 10; exit 3 without one)")
    requeue.set_defaults(handler=requeue_run)
    resume = _parser(verbs, "runtime-resume", "continue a graph run on a worker: answer one waiting for input, or "
                     "resume a failed one from its latest checkpoint", "agentstage runtime-resume RUN_ID --input approve")
    resume.add_argument("run_id")
    resume.add_argument("--input", help="answer for a run waiting for input")
    _answer_flags(resume)
    resume.set_defaults(handler=resume_run)
    fork = _parser(verbs, "runtime-fork", "start a new graph run on a worker from a checkpoint of another run",
                   "agentstage runtime-fork RUN_ID --step 1 --set input='\"hello\"'")
    fork.add_argument("run_id")
    fork.add_argument("--step", type=int, required=True, help="checkpoint step to start from (see runs show)")
    fork.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="change a state key; VALUE is JSON when it parses, else text (repeatable)")
    _answer_flags(fork)
    fork.set_defaults(handler=fork_run)
    dlq = _parser(verbs, "runtime-dlq", "dead-lettered tasks: list, show ID, requeue ID, purge",
                  "agentstage runtime-dlq show 1732480000000-0")
    dlq.add_argument("action", nargs="?", choices=["list", "show", "requeue", "purge"], default="list")
    dlq.add_argument("id", nargs="?", help="DLQ entry id (show, requeue)")
    dlq.add_argument("--limit", type=int, default=50, help="entries to list (default: 50)")
    dlq.add_argument("--yes", action="store_true", help="purge without asking")
    dlq.add_argument("--timeout", type=float, default=10.0,
                     help="requeue: seconds to wait for the coordinator's answer (default: 10)")
    dlq.set_defaults(handler=dlq_command)


def workers(args: argparse.Namespace) -> int:
    from agentstage.runtime.distributed.ops import RuntimeOps

    with RuntimeOps(config_from_args(args)) as ops:
        rows = ops.workers(history=args.all)
    if args.json:
        emit_json(rows)
        return ExitCode.OK
    if not rows:
        print("no workers have reported" if args.all else "no live workers (--all lists stopped ones)")
        return ExitCode.OK
    print(f"{'WORKER':<28}  {'STATUS':<9}  {'HOST':<16}  {'PID':>7}  {'IN FLIGHT':>9}  {'LAST SEEN':>9}")
    for r in rows:
        print(f"{r['worker_id'][:28]:<28}  {r['status']:<9}  {r['host'][:16]:<16}  {r['pid']:>7}"
              f"  {r['in_flight']:>4}/{r['concurrency']:<4}  {r['age_s']:>8.1f}s")
    return ExitCode.OK


def queues(args: argparse.Namespace) -> int:
    from agentstage.runtime.distributed.ops import RuntimeOps

    with RuntimeOps(config_from_args(args)) as ops:
        rows = ops.queues() + ops.unserved()
    if args.json:
        emit_json(rows)
        return ExitCode.OK
    print(f"{'STREAM':<32}  {'LENGTH':>7}  {'PENDING':>7}  {'LAG':>6}  {'OLDEST':>9}")
    for r in rows:
        if r["kind"] == "unserved":
            continue
        age = "-" if r["oldest_age_s"] is None else f"{r['oldest_age_s']:.1f}s"
        print(f"{r['stream'][:32]:<32}  {r['length']:>7}  {r['pending']:>7}  {r['lag']:>6}  {age:>9}")
    for r in rows:
        if r["kind"] == "unserved":
            print(f"warning: {r['warning']}", file=sys.stderr)
    return ExitCode.OK


def cancel_run(args: argparse.Namespace) -> int:
    from agentstage.runtime.distributed.ops import RuntimeOps

    with RuntimeOps(config_from_args(args)) as ops:
        result = ops.cancel(args.run_id, args.reason)
    emit_json(result) if args.json else print(f"cancelling {args.run_id}")
    return ExitCode.OK


def requeue_run(args: argparse.Namespace) -> int:
    from agentstage.runtime.distributed.ops import RuntimeOps

    with RuntimeOps(config_from_args(args)) as ops:
        result = ops.requeue(args.run_id, wait=max(args.timeout, 0.0))
    emit_json(result) if args.json else print(f"requeued {args.run_id} as attempt {result['attempt']}")
    return ExitCode.OK


def _answer_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for the coordinator's answer (default: 10; exit 3 without one)")
    parser.add_argument("--wait", action="store_true", help="then follow the run to its end; exit 1 unless it completed")


def _follow(ops: RuntimeOps, run_id: str, verb: str, args: argparse.Namespace) -> int:
    """Print what the coordinator granted, or (with --wait) the run's outcome once it ends or waits again."""
    if not args.wait:
        emit_json({"run_id": run_id, "status": verb}) if args.json else print(f"{verb} {run_id}")
        return ExitCode.OK
    outcome = ops.wait(run_id, timeout=_FOLLOW_TIMEOUT)
    if outcome is None:
        return fail(f"run {run_id} did not end within {_FOLLOW_TIMEOUT:g}s (it goes on)", ExitCode.UNAVAILABLE)
    if args.json:
        emit_json({"run_id": run_id, **outcome})
    elif outcome["status"] == "completed":
        print(outcome.get("output") or "")
    else:
        print(f"run {run_id} {outcome['status']}" + (f": {outcome['error']}" if outcome.get("error") else ""),
              file=sys.stderr)
    return ExitCode.OK if outcome["status"] in ("completed", "waiting") else ExitCode.RUN_FAILED


def resume_run(args: argparse.Namespace) -> int:
    from agentstage.runtime.distributed.ops import RuntimeOps

    with RuntimeOps(config_from_args(args)) as ops:
        ops.resume(args.run_id, args.input, wait=max(args.timeout, 0.0))
        return _follow(ops, args.run_id, "resumed", args)


def fork_run(args: argparse.Namespace) -> int:
    from agentstage.runtime.distributed.ops import RuntimeOps

    try:
        patch = state_patch(args.set)
    except ValueError as exc:
        return fail(str(exc), ExitCode.USAGE)
    with RuntimeOps(config_from_args(args)) as ops:
        forked = ops.fork(args.run_id, args.step, patch, wait=max(args.timeout, 0.0))
        return _follow(ops, forked["run_id"], "forked", args)


def dlq_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.distributed.ops import RuntimeOps

    if args.action in ("show", "requeue") and not args.id:
        return fail(f"runtime-dlq {args.action} needs an entry id", ExitCode.USAGE)
    if args.limit < 1:
        return fail("--limit must be at least 1", ExitCode.USAGE)
    with RuntimeOps(config_from_args(args)) as ops:
        if args.action == "list":
            rows = ops.dlq_list(args.limit)
            if args.json:
                emit_json(rows)
            elif not rows:
                print("the DLQ is empty")
            for r in rows if not args.json else ():
                print(f"{r['id']:<18}  {_when(r['ts'])}  run={r['run_id'] or '-':<32}  attempts={r['attempts']}"
                      f"  {r['reason']}")
            return ExitCode.OK
        if args.action == "show":
            row = ops.dlq_show(args.id)
            if args.json:
                emit_json(row)
            else:
                for key, value in row.items():
                    print(f"{key:>10}: {_when(value) if key == 'ts' else value}")
            return ExitCode.OK
        if args.action == "requeue":
            try:
                result = ops.dlq_requeue(args.id, wait=max(args.timeout, 0.0))
            except ValueError as exc:
                return fail(str(exc), ExitCode.USAGE)
            emit_json(result) if args.json else print(f"requeued run {result['run_id']} as attempt {result['attempt']}")
            return ExitCode.OK
        if not args.yes:
            if not sys.stdin.isatty():
                return fail("runtime-dlq purge deletes every entry: add --yes", ExitCode.USAGE)
            if input("delete every DLQ entry? [y/N] ").strip().lower() not in ("y", "yes"):
                return ExitCode.OK
        count = ops.dlq_purge()
        emit_json({"purged": count}) if args.json else print(f"purged {count} entries")
        return ExitCode.OK


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else "-"
