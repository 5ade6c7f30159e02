"""No-op runs through the distributed runtime, end to end: enqueue -> recorded as done in SQLite.

Starts a private redis-server (or uses --redis-url), a coordinator and 1 or 2 worker processes
(the CLI verbs), and measures runs/s under load and enqueue-to-done latency at low load (one run
at a time). Each run has full bookkeeping: run events, attempt, queue events, SQLite commit.
With the optional `bench` extra (Celery) installed, the same no-op workload runs through Celery
on the same Redis for comparison. Prints `name: value unit` lines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from agentstage.runtime.config import Config
from agentstage.runtime.distributed.ops import RuntimeOps


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("bench_distributed: redis-server is not installed (or pass --redis-url)")
    port = _free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
                                "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return process, url
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise SystemExit("bench_distributed: redis-server did not start") from None
            time.sleep(0.05)


class Deployment:
    """A coordinator and `workers` worker processes on one prefix."""

    def __init__(self, home: Path, url: str, prefix: str, workers: int, concurrency: int,
                 env: dict[str, str] | None = None) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
        self.env.update({"AGENTSTAGE_HOME": str(home), "AGENTSTAGE_REDIS_URL": url, "AGENTSTAGE_STREAM_PREFIX": prefix,
                         "AGENTSTAGE_LOG_LEVEL": "WARNING", "AGENTSTAGE_PROVIDER": "scripted",
                         "AGENTSTAGE_HEARTBEAT_INTERVAL": "1", **(env or {})})
        self.config = Config.from_env(self.env, dotenv=None)
        cli = [sys.executable, "-m", "agentstage.runtime.cli"]
        self.processes = [subprocess.Popen([*cli, "runtime-start"], env=self.env)]
        self.processes += [subprocess.Popen([*cli, "worker-start", f"--worker-id=bench-{i}",
                                             f"--concurrency={concurrency}"], env=self.env) for i in range(workers)]
        self.ops = RuntimeOps(self.config)
        deadline = time.monotonic() + 60
        while len([w for w in self.ops.workers() if w["alive"]]) < workers:
            if time.monotonic() > deadline:
                raise SystemExit("bench_distributed: workers did not start")
            time.sleep(0.1)
        self.run_batch(20)

    def run_batch(self, count: int) -> float:
        """Enqueue `count` runs at once and wait until all are recorded; returns seconds."""
        started = time.perf_counter()
        ids = [self.ops.enqueue("hello")["run_id"] for _ in range(count)]
        keys = [self.ops.layout.done_key(run_id) for run_id in ids]
        while keys:
            values = self.ops.client.mget(keys[:1000])
            keys = [k for k, v in zip(keys[:1000], values) if v is None] + keys[1000:]
            if keys:
                time.sleep(0.002)
        return time.perf_counter() - started

    def run_batch_io(self, count: int, poll: float = 0.05) -> float:
        """Like `run_batch` for runs that wait on a model: polls done keys every `poll` s."""
        started = time.perf_counter()
        ids = [self.ops.enqueue("hello")["run_id"] for _ in range(count)]
        keys = [self.ops.layout.done_key(run_id) for run_id in ids]
        while keys:
            time.sleep(poll)
            pending = []
            for index in range(0, len(keys), 1000):
                chunk = keys[index:index + 1000]
                pending += [k for k, v in zip(chunk, self.ops.client.mget(chunk)) if v is None]
            keys = pending
        return time.perf_counter() - started

    def latency(self, samples: int) -> list[float]:
        """Enqueue-to-done of one run at a time, milliseconds."""
        results = []
        for _ in range(samples):
            started = time.perf_counter()
            run_id = self.ops.enqueue("hello")["run_id"]
            key = self.ops.layout.done_key(run_id)
            while self.ops.client.get(key) is None:
                time.sleep(0.0002)
            results.append((time.perf_counter() - started) * 1000)
        return results

    def stop(self) -> None:
        self.ops.close()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)


def bench_agentstage(base: Path, url: str, workers: int, concurrency: int, runs: int, samples: int) -> float:
    deployment = Deployment(base / f"home-{workers}", url, f"bench{workers}", workers, concurrency)
    try:
        elapsed = deployment.run_batch(runs)
        latencies = sorted(deployment.latency(samples))
    finally:
        deployment.stop()
    rate = runs / elapsed
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"distributed_runs_per_s_{workers}w: {rate:.0f} runs/s ({runs} no-op runs, concurrency {concurrency}/worker)")
    print(f"distributed_enqueue_to_done_p50_{workers}w: {statistics.median(latencies):.1f} ms (low load, {samples} runs)")
    print(f"distributed_enqueue_to_done_p99_{workers}w: {p99:.1f} ms")
    return rate


def bench_celery(base: Path, url: str, workers: int, concurrency: int, runs: int) -> float | None:
    try:
        import celery  # noqa: F401
    except ImportError:
        print("celery_runs_per_s: skipped (install the bench extra: pip install -e '.[bench]')")
        return None
    app_dir = base / "celery_app"
    app_dir.mkdir(exist_ok=True)
    (app_dir / "bench_celery_app.py").write_text(
        "from celery import Celery\n"
        f"app = Celery('bench', broker={url!r}, backend={url!r})\n"
        "app.conf.worker_prefetch_multiplier = 4\n"
        "@app.task\n"
        "def noop(text):\n"
        "    return text\n")
    env = {**os.environ, "PYTHONPATH": str(app_dir)}
    processes = [subprocess.Popen([sys.executable, "-m", "celery", "-A", "bench_celery_app", "worker",
                                   "--concurrency", str(concurrency), "--pool", "threads", "-n", f"w{i}@%h",
                                   "--loglevel", "WARNING"], env=env, cwd=app_dir, stdout=subprocess.DEVNULL)
                 for i in range(workers)]
    sys.path.insert(0, str(app_dir))
    try:
        from bench_celery_app import noop

        noop.delay("warm").get(timeout=60)
        started = time.perf_counter()
        results = [noop.delay("hello") for _ in range(runs)]
        for result in results:
            result.get(timeout=120)
        rate = runs / (time.perf_counter() - started)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    print(f"celery_runs_per_s_{workers}w: {rate:.0f} runs/s (no-op task, result backend on the same Redis)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="runs per throughput measurement (default: 2000)")
    parser.add_argument("--samples", type=int, default=200, help="low-load latency samples (default: 200)")
    parser.add_argument("--concurrency", type=int, default=8, help="tasks per worker (default: 8)")
    parser.add_argument("--redis-url", default=None, help="use this Redis instead of a private redis-server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        server, url = (None, args.redis_url) if args.redis_url else start_redis(base)
        try:
            for workers in (1, 2):
                rate = bench_agentstage(base, url, workers, args.concurrency, args.runs, args.samples)
                celery_rate = bench_celery(base, url, workers, args.concurrency, args.runs)
                if celery_rate:
                    print(f"agentstage_vs_celery_{workers}w: {rate / celery_rate:.2f} x")
        finally:
            if server is not None:
                server.terminate()
                server.wait()


if __name__ == "__main__":
    main()
