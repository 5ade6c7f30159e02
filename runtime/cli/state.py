"""`agentstage state prune|stats`: retention of the SQLite record and its size, table by table."""

from __future__ import annotations

import argparse

from agentstage.runtime.cli.common import ExitCode, add_config_flags, config_from_args, emit_json, fail
from agentstage.runtime.config import Config

__all__ = ["register"]


def _non_negative(kind: type) -> object:
    def parse(text: str) -> object:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}")
        if value < 0:
            raise argparse.ArgumentTypeError(f"must not be negative, got {text!r}")
        return value

    return parse


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser("state", help="prune old run data or show the state file's size",
                              description="Retention and statistics of the SQLite state file.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    pruning = actions.add_parser(
        "prune", help="delete events and checkpoints of finished runs",
        description="Delete events and checkpoints of finished (completed, failed, cancelled) runs. "
                    "Queued, running and waiting runs are never touched, so they can still resume.",
        epilog="example: agentstage state prune --older-than-days 30 --keep-checkpoints 1 --dry-run")
    add_config_flags(pruning, "busy_timeout_ms")
    pruning.add_argument("--older-than-days", type=_non_negative(float), metavar="N",
                         help="all events and checkpoints of runs that ended more than N days ago")
    pruning.add_argument("--keep-checkpoints", type=_non_negative(int), metavar="K",
                         help="keep only the latest K checkpoints of each finished run")
    pruning.add_argument("--dry-run", action="store_true", help="count what would go, delete nothing")
    pruning.add_argument("--json", action="store_true", help="print the report as JSON")
    pruning.set_defaults(handler=prune_command)
    showing = actions.add_parser("stats", help="rows and bytes per table, checkpoint bytes per run",
                                 epilog="example: agentstage state stats --json")
    add_config_flags(showing)
    showing.add_argument("--top", type=_non_negative(int), default=10, metavar="N",
                         help="runs with the most checkpoint bytes to list (default: 10)")
    showing.add_argument("--json", action="store_true", help="print the statistics as JSON")
    showing.set_defaults(handler=stats_command)


def prune_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.state.retention import prune
    from agentstage.runtime.state.sqlite import open_connection

    if args.older_than_days is None and args.keep_checkpoints is None:
        return fail("nothing to prune: give --older-than-days N and/or --keep-checkpoints K")
    config = config_from_args(args)
    if config.state == "redis":
        return fail("AGENTSTAGE_STATE=redis: Redis state expires after AGENTSTAGE_STATE_REDIS_TTL seconds; "
                    "prune works on the SQLite record (sqlite or hybrid)")
    path = config.state_path
    if not path.exists():
        return fail(f"no state file at {path}", ExitCode.UNAVAILABLE)
    forget = _forget_copies(config) if config.state == "hybrid" else None
    connection = open_connection(path, busy_timeout_ms=config.busy_timeout_ms)
    try:
        report = prune(connection, str(path), older_than_days=args.older_than_days,
                       keep_checkpoints=args.keep_checkpoints, dry_run=args.dry_run, on_chunk=forget)
    finally:
        connection.close()
    if args.json:
        emit_json(report.to_dict())
        return ExitCode.OK
    verb = "would delete" if report.dry_run else "deleted"
    print(f"{verb} {report.events} events and {report.checkpoints} checkpoints of {report.runs} finished runs")
    return ExitCode.OK


def stats_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.state.retention import stats
    from agentstage.runtime.state.sqlite import open_connection

    config = config_from_args(args)
    path = config.state_path
    if not path.exists():
        return fail(f"no state file at {path}", ExitCode.UNAVAILABLE)
    connection = open_connection(path, readonly=True)
    try:
        result = stats(connection, str(path), top=args.top)
    finally:
        connection.close()
    if args.json:
        emit_json(result)
        return ExitCode.OK
    print(f"{result['path']}: {_size(result['file_bytes'])} ({_size(result['free_bytes'])} free)")
    print(f"{'TABLE':<20}  {'ROWS':>10}  {'BYTES':>10}")
    for table, row in result["tables"].items():
        print(f"{table:<20}  {row['rows']:>10}  {_size(row['bytes']):>10}")
    checkpoints = result["checkpoint_bytes"]
    print(f"checkpoint state: {_size(checkpoints['total'])}")
    for run in checkpoints["top_runs"]:
        print(f"  {run['run_id']:<32}  {run['checkpoints']:>5} checkpoints  {_size(run['bytes']):>10}")
    return ExitCode.OK


def _forget_copies(config: Config):
    """Drop the Hybrid store's Redis copies of pruned runs (best effort: they expire anyway)."""
    from agentstage.runtime._log import logger
    from agentstage.runtime.state.redis_layout import RedisLayout, connect

    client = connect(config.redis_url)
    layout = RedisLayout(client, config.stream_prefix)

    def forget(run_ids: list[str]) -> None:
        keys = [key for r in run_ids for key in (layout.run(r), layout.events(r), layout.checkpoints(r))]
        try:
            client.delete(*keys)
        except Exception as exc:  # NOTE: Redis down must not stop pruning the record
            logger.warning("could not drop Redis copies of {} pruned runs: {}", len(run_ids), exc)

    return forget


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"
