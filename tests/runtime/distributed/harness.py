"""Helpers for distributed-runtime tests: configs on the suite's redis-server, in-process nodes, polling."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentstage.runtime.config import Config
from agentstage.runtime.errors import NotFound, StoreError
from agentstage.runtime.distributed.node import CoordinatorNode, WorkerNode
from agentstage.runtime.state.reader import QUEUE_KIND_RANK, SQLiteReader, queue_transitions_sql
from agentstage.runtime.transport import StreamTransport
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
def coordinator(config: Config, transport: StreamTransport | None = None) -> Iterator[CoordinatorNode]:
    node = CoordinatorNode(config, transport=transport).start()
    assert node.wait_ready()
    try:
        yield node
    finally:
        node.stop()


@contextmanager
def worker(config: Config, worker_id: str = "w1", concurrency: int | None = None,
           transport: StreamTransport | None = None) -> Iterator[WorkerNode]:
    node = WorkerNode(config, worker_id, concurrency, worker_app.setup(), transport=transport).start()
    assert node.wait_ready()
    try:
        yield node
    finally:
        node.stop()


def reader(config: Config) -> SQLiteReader:
    return SQLiteReader(config.state_path)


def peek(config: Config, read: Callable[[SQLiteReader], Any]) -> Any:
    """`read(reader)` on the state file, or None while the file, its tables or the row do not exist yet."""
    try:
        db = SQLiteReader(config.state_path)
    except StoreError:
        return None
    try:
        return read(db)
    except (NotFound, StoreError):  # NOTE: StoreError while the coordinator is still creating the schema
        return None
    finally:
        db.close()


def queue_kinds(config: Config, run_id: str) -> list[str]:
    with_reader = reader(config)
    try:
        transitions = queue_transitions_sql("a.run_id = ?1", "a.run_id = ?1", "run_id = ?1")
        rows = with_reader.connection.execute(
            f"SELECT kind FROM ({transitions}) ORDER BY ts, attempt, {QUEUE_KIND_RANK}", (run_id,)).fetchall()
    finally:
        with_reader.close()
    return [row[0] for row in rows]


ROOT = Path(__file__).resolve().parents[3]
APP = "tests.runtime.distributed.worker_app:setup"


class Cluster:
    """Coordinator and worker subprocesses (the real CLI verbs) for one test deployment."""

    def __init__(self, config: Config, tmp_path: Path) -> None:
        self.config = config
        self.logs = tmp_path / "logs"
        self.logs.mkdir(exist_ok=True)
        self.tally = tmp_path / "tally.txt"
        self.tally.touch()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
        self.env.update({
            "AGENTSTAGE_HOME": config.home, "AGENTSTAGE_REDIS_URL": config.redis_url,
            "AGENTSTAGE_STREAM_PREFIX": config.stream_prefix, "AGENTSTAGE_TASK_LEASE": str(config.task_lease),
            "AGENTSTAGE_HEARTBEAT_INTERVAL": str(config.heartbeat_interval),
            "AGENTSTAGE_TASK_BACKOFF": str(config.task_backoff), "AGENTSTAGE_TASK_MAX_BACKOFF": str(config.task_max_backoff),
            "AGENTSTAGE_TASK_MAX_ATTEMPTS": str(config.task_max_attempts), "AGENTSTAGE_LOG_LEVEL": "INFO",
            "TALLY_FILE": str(self.tally), "PYTHONPATH": str(ROOT),
        })

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")
        process = subprocess.Popen([sys.executable, "-m", "agentstage.runtime.cli", *args], cwd=ROOT, env=self.env,
                                   stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.processes[name] = process
        return process

    def coordinator(self) -> subprocess.Popen[bytes]:
        return self._spawn("coordinator", "runtime-start")

    def worker(self, worker_id: str, concurrency: int = 4, *extra: str) -> subprocess.Popen[bytes]:
        return self._spawn(worker_id, "worker-start", f"--worker-id={worker_id}", f"--concurrency={concurrency}",
                           f"--app={APP}", *extra)

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash would."""
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def tallies(self) -> list[str]:
        return self.tally.read_text().split()

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def live_workers(ops: Any, *names: str) -> bool:
    alive = {row["worker_id"] for row in ops.workers() if row["alive"]}
    return set(names) <= alive
