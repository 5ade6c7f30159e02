"""Fault-injection soak: real coordinator and worker processes, a private Redis, a counting side-effect server.

For each fault, a fresh deployment runs N runs of the `effect` agent (app.py) while the fault is
injected, waits (bounded) for every run to end, and prints what happened:

    enqueued / completed / failed / lost (no row) / stuck (not ended) / repeated effects / DLQ

Everything listens on 127.0.0.1. Usage (from the repository root, with the venv's python):

    .venv/bin/python scripts/soak/faults.py                      # every fault, 60 runs each
    .venv/bin/python scripts/soak/faults.py --runs 200 --faults worker-kill,redis-rewind
"""

from __future__ import annotations

import argparse
import collections
import http.server
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis

from agentstage.runtime.config import Config
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.errors import StoreError
from agentstage.runtime.state.reader import SQLiteReader

HERE = Path(__file__).resolve().parent
LEASE = 2.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CountingServer(http.server.ThreadingHTTPServer):
    """Counts POST /KEY calls: the side effect the soak checks for repeats."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                with server.lock:
                    server.counts[self.path.strip("/")] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Deployment:
    """A private redis-server (AOF everysec), a coordinator and two workers of 2 slots, in one temp dir."""

    def __init__(self, root: Path, effect_url: str) -> None:
        self.root = root
        self.redis_dir = root / "redis"
        self.redis_port = _free_port()
        self.redis: subprocess.Popen[bytes] | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.config = Config.from_env({}, dotenv=None, home=str(root / "home"),
                                      redis_url=f"redis://127.0.0.1:{self.redis_port}/0", stream_prefix="soak",
                                      task_lease=LEASE, heartbeat_interval=0.3, task_backoff=0.05,
                                      task_max_backoff=0.5, task_max_attempts=5, reconcile_interval=5.0)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
        self.env.update({"AGENTSTAGE_HOME": self.config.home, "AGENTSTAGE_REDIS_URL": self.config.redis_url,
                         "AGENTSTAGE_STREAM_PREFIX": "soak", "AGENTSTAGE_TASK_LEASE": str(LEASE),
                         "AGENTSTAGE_HEARTBEAT_INTERVAL": "0.3", "AGENTSTAGE_TASK_BACKOFF": "0.05",
                         "AGENTSTAGE_TASK_MAX_BACKOFF": "0.5", "AGENTSTAGE_RECONCILE_INTERVAL": "5",
                         "AGENTSTAGE_LOG_LEVEL": "WARNING", "SOAK_EFFECT_URL": effect_url})

    def start_redis(self) -> None:
        self.redis_dir.mkdir(parents=True, exist_ok=True)
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(self.redis_dir),
             "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--logfile", "redis.log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.redis_port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        client.close()

    def kill_redis(self) -> None:
        assert self.redis is not None
        self.redis.kill()
        self.redis.wait()

    def spawn(self, name: str) -> None:
        args = ["runtime-start"] if name == "coordinator" else [
            "worker-start", f"--worker-id={name}", "--concurrency=2", "--app=app:setup"]
        log = open(self.root / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen([sys.executable, "-m", "agentstage.runtime.cli", *args], cwd=HERE,
                                                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait()


Fault = Callable[[Deployment, threading.Event], None]


def no_fault(d: Deployment, done: threading.Event) -> None:
    done.wait()


def worker_kill(d: Deployment, done: threading.Event) -> None:
    """kill -9 a worker every 3 s and start it again."""
    while not done.wait(3.0):
        name = random.choice(["w1", "w2"])
        d.kill(name)
        d.spawn(name)


def coordinator_kill(d: Deployment, done: threading.Event) -> None:
    """kill -9 the coordinator once, 2 s in, and start it again 1 s later."""
    if not done.wait(2.0):
        d.kill("coordinator")
        time.sleep(1.0)
        d.spawn("coordinator")
    done.wait()


def redis_kill(d: Deployment, done: threading.Event) -> None:
    """kill -9 Redis 2 s in; it restarts from its AOF."""
    if not done.wait(2.0):
        d.kill_redis()
        d.start_redis()
    done.wait()


def redis_rewind(d: Deployment, done: threading.Event) -> None:
    """Copy the AOF 1.5 s in, let the runs go on 1 s, then kill -9 Redis and restart it from the copy:
    Redis loses what it wrote after the copy (more than `appendfsync everysec` allows), SQLite keeps it."""
    if done.wait(1.5):
        return
    snapshot = d.root / "aof-then"
    shutil.copytree(d.redis_dir / "appendonlydir", snapshot)
    time.sleep(1.0)
    d.kill_redis()
    shutil.rmtree(d.redis_dir / "appendonlydir")
    shutil.copytree(snapshot, d.redis_dir / "appendonlydir")
    d.start_redis()
    done.wait()


def poison(d: Deployment, done: threading.Event) -> None:
    """Write undecodable entries into every stream the runtime reads, 1 s in."""
    if done.wait(1.0):
        return
    client = redis.Redis(port=d.redis_port)
    bad = [b"[" * 200_000, b"not json", b'{"t": "task", "v": 99}', b""]
    for stream in ("soak:tasks", "soak:admit", "soak:results", "soak:control"):
        for payload in bad:
            client.xadd(stream, {"m": payload})
        client.xadd(stream, {"other": b"no m field"})
    client.close()
    done.wait()


def worker_pause(d: Deployment, done: threading.Event) -> None:
    """SIGSTOP worker w1 for three leases, 2 s in, then SIGCONT it."""
    if done.wait(2.0):
        return
    process = d.processes["w1"]
    process.send_signal(signal.SIGSTOP)
    done.wait(3 * LEASE)
    process.send_signal(signal.SIGCONT)
    done.wait()


def sqlite_lock(d: Deployment, done: threading.Event) -> None:
    """Another process holds the store's write lock for 8 s (past the busy timeout), 2 s in."""
    if done.wait(2.0):
        return
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
        " c.execute('BEGIN EXCLUSIVE'); time.sleep(8); c.execute('COMMIT')"), str(d.config.state_path)])
    holder.wait()
    done.wait()


def disk_full(d: Deployment, done: threading.Event) -> None:
    """Fill the store's file system (a 64 MB tmpfs) 1.5 s in, for 4 s, then free the space."""
    if done.wait(1.5):
        return
    filler = Path(d.config.home) / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * (1 << 20))
                out.flush()
        except OSError:
            pass
    done.wait(4.0)
    filler.unlink()
    done.wait()


FAULTS: dict[str, Fault] = {
    "none": no_fault, "worker-kill": worker_kill, "coordinator-kill": coordinator_kill, "redis-kill": redis_kill,
    "redis-rewind": redis_rewind, "poison": poison, "worker-pause": worker_pause, "sqlite-lock": sqlite_lock,
    "disk-full": disk_full,
}
NEEDS_TMPFS = {"disk-full"}


def soak(name: str, runs: int, nap_ms: int, limit: float) -> dict[str, object]:
    """One deployment under one fault; what happened to its runs and effects."""
    counting = CountingServer()
    threading.Thread(target=counting.serve_forever, daemon=True).start()
    root = Path(tempfile.mkdtemp(prefix=f"agentstage-soak-{name}-"))
    deployment = Deployment(root, counting.url)
    mounted = name in NEEDS_TMPFS and _mount_tmpfs(Path(deployment.config.home), "64m")
    started = time.monotonic()
    done = threading.Event()
    try:
        deployment.start_redis()
        for process in ("coordinator", "w1", "w2"):
            deployment.spawn(process)
        with RuntimeOps(deployment.config) as ops:
            _wait(lambda: sum(1 for w in ops.workers() if w["alive"]) == 2, 30)
            ids = [ops.enqueue(f"effect k{i} {nap_ms}", agent="effect")["run_id"] for i in range(runs)]
            injector = threading.Thread(target=FAULTS[name], args=(deployment, done), daemon=True)
            injector.start()
            deadline = time.monotonic() + limit
            for run_id in ids:
                _ended(ops, run_id, deadline)
            done.set()
            injector.join(30)
            dlq = _retrying(lambda: len(ops.dlq_list(1000)))
        statuses = _statuses(deployment.config, ids)
    finally:
        done.set()
        deployment.stop()
        counting.shutdown()
        if mounted:
            subprocess.run(["umount", deployment.config.home], check=False)
    counts = counting.counts
    ended = {"completed", "failed", "cancelled"}
    return {
        "fault": name, "enqueued": runs,
        "completed": sum(1 for s in statuses.values() if s == "completed"),
        "failed": sum(1 for s in statuses.values() if s in ("failed", "cancelled")),
        "lost": sum(1 for s in statuses.values() if s is None),
        "stuck": sum(1 for s in statuses.values() if s is not None and s not in ended),
        "repeated": sum(1 for n in counts.values() if n > 1),
        "no_effect": sum(1 for i in range(runs) if counts[f"k{i}"] == 0),
        "dlq": dlq, "seconds": round(time.monotonic() - started, 1), "logs": str(root),
    }


def _mount_tmpfs(path: Path, size: str) -> bool:
    """A small tmpfs at `path` (needs root), so the fault can fill the store's file system for real."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        raise SystemExit(f"faults.py: disk-full needs a tmpfs mount (root): {mounted.stderr.strip()}")
    return True


def _ended(ops: RuntimeOps, run_id: str, deadline: float) -> None:
    """Wait for a run's end until `deadline`, through Redis outages (the fault may be one)."""
    while time.monotonic() < deadline:
        try:
            if ops.wait(run_id, max(0.1, deadline - time.monotonic())) is not None:
                return
        except StoreError:
            time.sleep(0.2)


def _statuses(config: Config, ids: list[str]) -> dict[str, str | None]:
    reader = SQLiteReader(config.state_path)
    try:
        found: dict[str, str | None] = {}
        for run_id in ids:
            try:
                found[run_id] = reader.get_run(run_id).status
            except Exception:  # NOTE: an unknown run is the "lost" count, whatever the reader raised
                found[run_id] = None
        return found
    finally:
        reader.close()


def _retrying(read: Callable[[], int]) -> int:
    for _ in range(50):
        try:
            return read()
        except StoreError:
            time.sleep(0.2)
    return -1


def _wait(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("the deployment did not come up (see the logs)")
        time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="runs per fault (default: 60)")
    parser.add_argument("--nap-ms", type=int, default=400, help="each run's nap before its effect (default: 400)")
    parser.add_argument("--limit", type=float, default=120.0, help="seconds to wait for a fault's runs (default: 120)")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated, of: {', '.join(FAULTS)}")
    args = parser.parse_args()
    chosen = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FAULTS]
    if unknown:
        print(f"faults.py: unknown fault {unknown[0]!r} (choose from {', '.join(FAULTS)})", file=sys.stderr)
        return 2
    columns = ("fault", "enqueued", "completed", "failed", "lost", "stuck", "repeated", "no_effect", "dlq", "seconds")
    print("  ".join(f"{c:>16}" if c == "fault" else f"{c:>9}" for c in columns))
    for name in chosen:
        row = soak(name, args.runs, args.nap_ms, args.limit)
        print("  ".join(f"{row[c]!s:>16}" if c == "fault" else f"{row[c]!s:>9}" for c in columns), flush=True)
        if row["lost"] or row["stuck"] or row["repeated"]:
            print(f"{'':>16}  logs: {row['logs']}", flush=True)
        else:
            shutil.rmtree(row["logs"], ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
