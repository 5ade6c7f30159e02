"""Helpers for distributed-runtime tests: configs on the suite's redis-server, in-process nodes, polling."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentstage.runtime.config import Config
from agentstage.runtime.distributed.node import CoordinatorNode, WorkerNode
from agentstage.runtime.state.reader import SQLiteReader
from tests.runtime.distributed import worker_app


def distributed_config(tmp_path: Path, redis_url: str, **settings: Any) -> Config:
    """A Config for one test deployment: its own state file and stream prefix, short leases and backoffs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    values = dict(home=str(tmp_path / "home"), redis_url=redis_url, stream_prefix=f"t{tmp_path.name[-12:]}",
                  task_lease=2.0, heartbeat_interval=0.3, task_backoff=0.05, task_max_backoff=0.2,
                  task_max_attempts=3, worker_concurrency=4, agent_pool_size=2)
    values.update(settings)
    return Config.from_env(env, dotenv=None, **values)


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


@contextmanager
def coordinator(config: Config) -> Iterator[CoordinatorNode]:
    node = CoordinatorNode(config).start()
    assert node.wait_ready()
    try:
        yield node
    finally:
        node.stop()


@contextmanager
def worker(config: Config, worker_id: str = "w1", concurrency: int | None = None) -> Iterator[WorkerNode]:
    node = WorkerNode(config, worker_id, concurrency, worker_app.setup()).start()
    assert node.wait_ready()
    try:
        yield node
    finally:
        node.stop()


def reader(config: Config) -> SQLiteReader:
    return SQLiteReader(config.state_path)


def queue_kinds(config: Config, run_id: str) -> list[str]:
    with_reader = reader(config)
    try:
        rows = with_reader.connection.execute(
            "SELECT kind FROM queue_events WHERE run_id = ? ORDER BY ts, attempt", (run_id,)).fetchall()
    finally:
        with_reader.close()
    return [row[0] for row in rows]
