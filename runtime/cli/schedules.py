"""`agentstage schedules list|show|add|remove|trigger|enable|disable`: stored schedules on the command line.

Changes are written to the store with an audit row (role `cli`); a running `ui`, `ui-api` or `runtime-start`
process fires them (its scheduler checks every AGENTSTAGE_SCHEDULER_POLL seconds). `trigger` starts the run
here (and waits for it) or, with `--distributed`, queues it for the coordinator and its workers.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.cli.common import ExitCode, add_config_flags, config_from_args, emit_json, fail
from agentstage.runtime.config import Config
from agentstage.runtime.errors import InvalidArgument, NotFound, Refused

__all__ = ["parse_every", "register"]

_EVERY = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_ENDED = ("run.completed", "run.failed", "run.cancelled")
_FLAGS = {"every_s": "--every", "every": "--every", "grace_s": "--grace", "cron": "--cron", "timezone": "--timezone",
          "input": "--input", "agent": "--agent", "limit": "--limit"}


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser("schedules", help="list, add, remove, trigger, enable or disable schedules",
                              description="Schedules start runs of an agent or a workflow on a cron expression "
                                          "(5 fields, in a time zone) or at an interval. A running `ui`, `ui-api` or "
                                          "`runtime-start` fires them; missed ticks after downtime: the latest fires "
                                          "when at most --grace seconds late, older ones are skipped.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every schedule with its next tick and last firing",
                                 epilog="example: agentstage schedules list")
    add_config_flags(listing)
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=_usage(list_command))
    show = actions.add_parser("show", help="one schedule and its history, newest first",
                              epilog="example: agentstage schedules show nightly")
    add_config_flags(show)
    show.add_argument("name")
    show.add_argument("--limit", default="20", help="how many firings (default: 20)")
    show.add_argument("--json", action="store_true", help="print the schedule with its history as JSON")
    show.set_defaults(handler=_usage(show_command))
    add = actions.add_parser("add", help="add (or replace) a schedule",
                             epilog="examples:\n  agentstage schedules add nightly --cron '0 2 * * *' "
                                    "--timezone Europe/Paris --input 'summarise the day'\n"
                                    "  agentstage schedules add poll --every 15m --workflow review --input 'check'")
    add_config_flags(add)
    add.add_argument("name", help="1-100 letters, digits, '.', '_' or '-'")
    add.add_argument("--cron", default=None, help="5-field cron expression: minute hour day-of-month month day-of-week")
    add.add_argument("--every", default=None, metavar="DURATION", help="an interval instead: 90, 90s, 15m, 2h, 1d")
    add.add_argument("--timezone", default="UTC", help="IANA time zone of the cron expression (default: UTC)")
    add.add_argument("--agent", default="default", help="agent to run (default: default)")
    add.add_argument("--workflow", default=None, help="workflow to run instead of an agent")
    add.add_argument("--input", default="", help="the run's input")
    add.add_argument("--grace", default="300", metavar="SECONDS",
                     help="how late a missed tick may still fire after downtime (default: 300)")
    add.add_argument("--disabled", action="store_true", help="store it disabled")
    add.add_argument("--replace", action="store_true", help="replace a schedule of that name")
    add.add_argument("--json", action="store_true", help="print the stored schedule as JSON")
    add.set_defaults(handler=_usage(add_command))
    for verb, text in (("remove", "delete a schedule and its history"), ("enable", "fire it again from now on"),
                       ("disable", "stop firing it (ticks while disabled are not missed ticks)")):
        sub = actions.add_parser(verb, help=text, epilog=f"example: agentstage schedules {verb} nightly")
        add_config_flags(sub)
        sub.add_argument("name")
        sub.set_defaults(handler=_usage(change_command))
    trigger = actions.add_parser("trigger", help="start a run of a schedule now (enabled or not)",
                                 epilog="example: agentstage schedules trigger nightly")
    add_config_flags(trigger)
    trigger.add_argument("name")
    trigger.add_argument("--distributed", action="store_true",
                         help="queue the run for the coordinator and workers on Redis instead of running it here")
    trigger.add_argument("--json", action="store_true", help="print the firing (and the run's end) as JSON")
    trigger.set_defaults(handler=_usage(trigger_command))


def parse_every(text: str) -> float:
    """`90`, `90s`, `15m`, `2h`, `1d` as seconds; raises InvalidArgument("every", ...)."""
    match = _EVERY.fullmatch(text.strip().lower())
    if match is None:
        raise InvalidArgument("every", f"expected a duration such as 90, 15m, 2h or 1d, got {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidArgument(name, f"expected a number, got {text!r}") from None


def _usage(handler: Any) -> Any:
    """Run a verb; a value it cannot use is one line on stderr naming the flag, and exit 2."""
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except InvalidArgument as exc:
            return fail(f"{_FLAGS.get(exc.field, exc.field)}: {exc.reason}", ExitCode.USAGE)

    return run


def _backend(config: Config) -> Any:
    from agentstage.runtime.state.factory import StateBackend

    return StateBackend(config)


def _rows(config: Config) -> list[dict[str, Any]]:
    from agentstage.runtime.schedules import next_tick, ts_of
    from agentstage.runtime.state.schedules import fires, last_scheduled_tick, list_schedules

    if config.state == "sqlite" and not config.state_path.exists():
        return []
    backend = _backend(config)
    try:
        with closing(backend.reader()) as reader:
            now = datetime.now(UTC)
            rows = []
            for row in list_schedules(reader):
                recent = fires(reader, row["name"], limit=1)
                following = next_tick(row, last_scheduled_tick(reader, row["name"]), now)
                rows.append({**row, "next_tick": ts_of(following) if following else None,
                             "last_fire": recent[0] if recent else None})
            return rows
    finally:
        backend.close()


def list_command(args: argparse.Namespace) -> int:
    rows = _rows(config_from_args(args))
    if args.json:
        emit_json(rows)
        return ExitCode.OK
    if not rows:
        print("no schedules yet")
        return ExitCode.OK
    print(f"{'NAME':<24}  {'WHEN':<28}  {'ON':<3}  {'TARGET':<20}  {'NEXT':<24}  LAST")
    for row in rows:
        when = f"{row['cron']} {row['timezone']}" if row["cron"] else f"every {row['every_s']:g}s"
        target = f"workflow {row['workflow']}" if row["workflow"] else row["agent"]
        last = row["last_fire"]
        shown = f"{last['status']} {last['claimed_at']}" if last else "-"
        print(f"{row['name'][:24]:<24}  {when[:28]:<28}  {'yes' if row['enabled'] else 'no':<3}  {target[:20]:<20}"
              f"  {row['next_tick'] or '-':<24}  {shown}")
    return ExitCode.OK


def show_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.state.schedules import fires, get_schedule

    limit = int(_number("limit", args.limit))
    if limit < 1:
        raise InvalidArgument("limit", "must be at least 1")
    config = config_from_args(args)
    backend = _backend(config)
    try:
        with closing(backend.reader()) as reader:
            found = {**get_schedule(reader, args.name), "history": fires(reader, args.name, limit=limit)}
    finally:
        backend.close()
    if args.json:
        emit_json(found)
        return ExitCode.OK
    when = f"cron {found['cron']} in {found['timezone']}" if found["cron"] else f"every {found['every_s']:g} s"
    print(f"schedule {found['name']}  {when}  enabled={'yes' if found['enabled'] else 'no'}"
          f"  target={found['workflow'] or found['agent']}  grace={found['grace_s']:g}s")
    for fire in found["history"]:
        run = fire["run"] or {}
        print(f"  {fire['claimed_at']}  {fire['trigger']:<8}  {fire['status']:<8}  tick {fire['tick']}"
              f"  run {fire['run_id'] or '-'} {run.get('status') or ''}".rstrip()
              + (f"  ({fire['error']})" if fire["error"] else ""))
    return ExitCode.OK


def add_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.schedules import new_schedule
    from agentstage.runtime.state.schedules import get_schedule

    every = parse_every(args.every) if args.every is not None else None
    record = new_schedule(args.name, cron=args.cron, every_s=every, timezone=args.timezone, agent=args.agent,
                          workflow=args.workflow, input=args.input, grace_s=_number("grace_s", args.grace),
                          enabled=not args.disabled)
    config = config_from_args(args)
    backend = _backend(config)
    try:
        writer = backend.writer()
        try:
            with closing(backend.reader()) as reader:
                try:
                    old = get_schedule(reader, args.name)
                except NotFound:
                    old = None
            if old is not None and not args.replace:
                raise Refused(args.name, f"schedule {args.name!r} exists (--replace to replace it)")
            if old is not None:
                record = dataclasses.replace(record, created_at=old["created_at"])
            writer.write([record, _audit("cron.create" if old is None else "cron.update", args.name,
                                         {"cron": record.cron, "every_s": record.every_s,
                                          "timezone": record.timezone})])
        finally:
            writer.close()
    except Refused as exc:
        return fail(exc.reason, ExitCode.USAGE)
    finally:
        backend.close()
    if args.json:
        emit_json(dataclasses.asdict(record))
    else:
        print(f"schedule {record.name} {'replaced' if args.replace else 'added'}"
              f"{' (disabled)' if not record.enabled else ''}")
    return ExitCode.OK


def change_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.schedules import enabled
    from agentstage.runtime.state.records import ScheduleRemoved
    from agentstage.runtime.state.schedules import get_schedule

    config = config_from_args(args)
    backend = _backend(config)
    try:
        with closing(backend.reader()) as reader:
            current = get_schedule(reader, args.name)
        if args.action == "remove":
            records: list[Any] = [ScheduleRemoved(args.name, utc_now()), _audit("cron.delete", args.name, {})]
        else:
            on = args.action == "enable"
            records = [dataclasses.replace(enabled(current, on), condition="update"),
                       _audit("cron.update", args.name, {"enabled": on})]
        writer = backend.writer()
        try:
            writer.write(records)
        finally:
            writer.close()
    finally:
        backend.close()
    print(f"schedule {args.name} {args.action}d")
    return ExitCode.OK


def trigger_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.control import run_control
    from agentstage.runtime.schedules import Firing
    from agentstage.runtime.system import System

    config = config_from_args(args)
    with System(config) as system:
        control = run_control(system, distributed=args.distributed)
        try:
            with system.subscribe(types=_ENDED) as ended:
                fired = Firing(system, control).trigger(
                    args.name, before=lambda: system.write([_audit("cron.trigger", args.name, {})]))
                run = _wait(system, ended, fired["run_id"]) if fired["run_id"] and not args.distributed else None
        finally:
            control.close()
    if args.json:
        emit_json({**fired, "run": run})
    elif fired["status"] == "failed":
        return fail(f"schedule {args.name}: {fired['error']}", ExitCode.RUN_FAILED)
    else:
        print(f"schedule {args.name}: run {fired['run_id']} {run['status'] if run else fired['status']}")
        if run and run["output"]:
            print(run["output"])
    if fired["status"] == "failed" or (run is not None and run["status"] != "completed"):
        return ExitCode.RUN_FAILED
    return ExitCode.OK


def _wait(system: Any, ended: Any, run_id: str) -> dict[str, Any]:
    """The run's end as stored, once its end event is durable."""
    while True:
        row = system.reader().get_run(run_id)
        if row.ended_at is not None:
            return {"run_id": run_id, "status": row.status, "output": row.output, "error": row.error}
        if ended.get(timeout=system.config.run_timeout) is None:
            return {"run_id": run_id, "status": row.status, "output": row.output, "error": "still running"}


def _audit(action: str, target: str, detail: dict[str, Any]) -> Any:
    from agentstage.runtime.state.records import AuditEntry

    return AuditEntry(id=new_id(), ts=utc_now(), action=action, outcome="ok", key_id=None, role="cli",
                      target=target, client="cli", detail=detail)
