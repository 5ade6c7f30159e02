"""`runtime-start`, `worker-start`, `runtime-enqueue`: run and feed the distributed runtime."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any

from agentstage.runtime.cli.common import (ExitCode, add_config_flags, config_from_args, emit_json, fail,
                                                note_new_state_file)
from agentstage.runtime.config import Config

__all__ = ["REDIS_FLAGS", "register"]

REDIS_FLAGS = ("redis_url", "stream_prefix")


def register(verbs: argparse._SubParsersAction) -> None:
    start = verbs.add_parser(
        "runtime-start", help="run the coordinator (owns the state file, schedules runs over Redis)",
        description="Run the coordinator until SIGTERM/SIGINT: admit runs, publish tasks, record results, "
                    "reclaim the tasks of dead workers, retry with backoff, dead-letter.",
        epilog="example: AGENTSTAGE_REDIS_URL=redis://127.0.0.1:6379/0 agentstage runtime-start",
    )
    add_config_flags(start, *REDIS_FLAGS, "task_lease", "task_max_attempts", "task_backoff", "max_queued",
                     "read_linger_ms",
                     "startup_timeout", "log_level", "log_format")
    start.set_defaults(handler=runtime_start)

    worker = verbs.add_parser(
        "worker-start", help="run a worker: claim tasks from Redis and run them on local agents",
        description="Run a worker until SIGTERM/SIGINT, then drain: stop claiming, finish or release what is "
                    "in hand, exit 0.",
        epilog="examples:\n  agentstage worker-start --worker-id=w1 --concurrency=8\n"
               "  cd examples && agentstage worker-start --app worker_app   # worker_app.py: setup()",
    )
    add_config_flags(worker, *REDIS_FLAGS, "provider", "model", "heartbeat_interval", "task_lease",
                     "startup_timeout", "log_level", "log_format")
    worker.add_argument("--worker-id", default=None,
                        help="stable consumer name (default: HOST:$HONCHO_PROCESS_NAME, else HOST:PID)")
    worker.add_argument("--concurrency", type=int, default=None,
                        help="tasks run at the same time (default: 256; env AGENTSTAGE_WORKER_CONCURRENCY)")
    worker.add_argument("--drain-timeout", type=float, default=3.0,
                        help="seconds to let in-flight tasks finish on shutdown before releasing them, so the "
                             "worker exits within honcho's 5 s (default: 3)")
    worker.add_argument("--app", default=None, metavar="MODULE:FUNCTION",
                        help="a module (found in the current directory too) and its function returning a WorkerSetup "
                             "(extra agents, tools, providers; default function: setup)")
    worker.set_defaults(handler=worker_start)

    enqueue = verbs.add_parser(
        "runtime-enqueue", help="enqueue a run on the distributed runtime and print its run_id",
        epilog='example: agentstage runtime-enqueue --wait -- "what is 6 * 7"',
    )
    add_config_flags(enqueue, *REDIS_FLAGS, "run_timeout")
    enqueue.add_argument("--mode", choices=["run", "graph"], default="run", help="agent run or graph run (default: run)")
    enqueue.add_argument("--agent", default="default", help="agent name for --mode=run (default: default)")
    enqueue.add_argument("--workflow", default="", help="workflow name for --mode=graph")
    enqueue.add_argument("--session", default=None, help="continue this session (default: a new session)")
    enqueue.add_argument("--wait", action="store_true", help="follow the run to its end; exit 1 unless it completed")
    enqueue.add_argument("--json", action="store_true", help="print one JSON object")
    enqueue.add_argument("input", nargs="*", help="the prompt or graph input (put it after --)")
    enqueue.set_defaults(handler=runtime_enqueue)


def _serve(node: Any, config: Config, drain: Any = None, started: Any = None) -> int:
    """Run `node` until SIGTERM/SIGINT (`started()` once it is up); a signal while it waits for Redis at start
    ends it at once."""
    from agentstage.runtime._log import logger
    from agentstage.runtime.logs import configure_logging

    configure_logging(config.log_level, log_format=config.log_format)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    node.start(stop)
    if not stop.is_set():
        logger.info("{} started (redis {}, prefix {})", type(node).__name__, config.redis_url, config.stream_prefix)
        if started is not None:
            started()
    while not stop.wait(0.5):
        pass
    logger.info("{} stopping", type(node).__name__)
    if drain is not None:
        drain()
    node.stop()
    return ExitCode.OK


def runtime_start(args: argparse.Namespace) -> int:
    from agentstage.runtime.distributed.node import CoordinatorNode

    config = config_from_args(args)
    return _serve(CoordinatorNode(config), config, started=lambda: note_new_state_file(args))


def worker_start(args: argparse.Namespace) -> int:
    from agentstage.runtime.distributed.node import WorkerNode, default_worker_id, load_setup

    config = config_from_args(args)
    if args.app and os.getcwd() not in sys.path:
        # NOTE: as Celery's -A does; the console script's sys.path has its own directory, not the caller's.
        sys.path.insert(0, os.getcwd())
    setup = load_setup(args.app) if args.app else None
    if args.concurrency is not None and args.concurrency < 1:
        return fail("--concurrency must be at least 1", ExitCode.USAGE)
    node = WorkerNode(config, args.worker_id or default_worker_id(), args.concurrency, setup)
    return _serve(node, config, lambda: node.drain(max(args.drain_timeout, 0.0)))


def runtime_enqueue(args: argparse.Namespace) -> int:
    text = " ".join(args.input).strip()
    if not text:
        return fail('the input is empty: agentstage runtime-enqueue -- "your prompt"', ExitCode.USAGE)
    if args.mode == "graph" and not args.workflow:
        return fail("--mode=graph needs --workflow=NAME", ExitCode.USAGE)
    from agentstage.runtime.distributed.ops import RuntimeOps

    config = config_from_args(args)
    with RuntimeOps(config) as ops:
        ids = ops.enqueue(text, mode=args.mode, agent=args.agent, workflow=args.workflow, session=args.session)
        if not args.wait:
            emit_json(ids) if args.json else print(ids["run_id"])
            return ExitCode.OK
        outcome = ops.wait(ids["run_id"], config.run_timeout)
    if outcome is None:
        return fail(f"run {ids['run_id']} did not end within {config.run_timeout:g}s", ExitCode.RUN_FAILED)
    if args.json:
        emit_json({**ids, **outcome})
    elif outcome["status"] == "completed":
        print(outcome["output"])
    else:
        print(f"run {ids['run_id']} {outcome['status']}: {outcome.get('error') or ''}".rstrip(": "), file=sys.stderr)
    return ExitCode.OK if outcome["status"] == "completed" else ExitCode.RUN_FAILED
