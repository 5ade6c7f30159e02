"""No-op runs through the distributed runtime against Dramatiq and Celery on the same Redis, in one run.

Starts a private redis-server (or uses --redis-url), then for each system 2 worker processes
(agentstage: a coordinator and `worker-start`s, the CLI verbs; Dramatiq: `dramatiq` processes;
Celery: `celery worker`s with the thread pool), each with the same concurrency, and measures:
throughput (a burst of --runs runs, runs/s to the last one done), burst latency (each run's
enqueue-to-done within that burst, p50/p99), each the median of --rounds bursts, the client's own
send rate in them, and low-load latency (one run at a time, p50/p99). The peers run first, so
agentstage also sends bursts paced at each peer's own client send rate: burst latency at an equal
offered rate (a peer whose client is slower than its workers never builds a queue).
An agentstage run has full bookkeeping (run events, attempt, queue events, SQLite commit) and
is done when the coordinator publishes its id on the `ended` channel after the commit; a peer's
no-op task publishes its id on a channel as its last step. One subscriber records arrivals, so
nothing polls Redis. Dramatiq and Celery come from the `bench` extra (pip install -e '.[bench]');
a peer that is not installed is skipped. First, the ceiling of the coordinator's bookkeeping on this
machine: the records of a no-op run through the SQLite writer alone, as runs/s and row writes/s.
Prints `name: value unit` lines and the target ratios.
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
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis

from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.config import Config
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.state.records import Event, QueueEvent, RunAttempt
from agentstage.runtime.state.sqlite import SQLiteWriter


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


class Arrivals:
    """Subscribes to one channel and records when each id arrives (perf_counter seconds)."""

    def __init__(self, url: str, channel: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.pubsub = self.client.pubsub()
        self.pubsub.subscribe(channel)
        while self.pubsub.get_message(timeout=1.0) is None:
            pass
        self.seen: dict[str, float] = {}
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        try:
            for notice in self.pubsub.listen():
                if notice["type"] != "message":
                    continue
                with self.changed:
                    self.seen.setdefault(notice["data"].decode(), time.perf_counter())
                    self.changed.notify_all()
        except (redis.ConnectionError, ValueError, AttributeError):
            return

    def wait(self, ids: list[str], timeout: float = 300.0) -> list[float]:
        """Block until every id in `ids` arrived; returns their arrival times in order."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not all(i in self.seen for i in ids):
                if not self.changed.wait(max(deadline - time.monotonic(), 0)) and time.monotonic() > deadline:
                    raise SystemExit(f"bench_distributed: {sum(i not in self.seen for i in ids)} runs never ended")
            return [self.seen[i] for i in ids]

    def close(self) -> None:
        self.pubsub.close()
        self.client.close()


def burst(send: Callable[[int], str], arrivals: Arrivals, runs: int, first: int,
          pace: float | None = None) -> dict[str, float]:
    """Send `runs` runs, as fast as the client can or at `pace` runs/s, and wait for all: runs/s to the last one
    done, the client's own send rate, and each run's enqueue-to-done latency (p50/p99)."""
    sent: list[tuple[str, float]] = []
    started = time.perf_counter()
    for index in range(runs):
        if pace is not None:
            pause = started + index / pace - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        sent.append((send(first + index), time.perf_counter()))
    sending = sent[-1][1] - started
    ended = arrivals.wait([run_id for run_id, _ in sent])
    latency = sorted((end - at) * 1000 for (_, at), end in zip(sent, ended))
    return {"rate": runs / (max(ended) - started), "send_rate": runs / sending,
            "burst_p50": statistics.median(latency), "burst_p99": _p99(latency)}


def measure(send: Callable[[int], str], arrivals: Arrivals, runs: int, samples: int,
            rounds: int, paces: dict[str, float] | None = None) -> dict[str, float]:
    """`rounds` bursts of `runs` (the median of each figure), then `samples` runs one at a time; then, for each
    of `paces` (a peer's name and its client's send rate), `rounds` bursts sent at that rate."""
    bursts = [burst(send, arrivals, runs, r * runs) for r in range(rounds)]
    figures = {key: statistics.median(b[key] for b in bursts) for key in bursts[0]}
    low = []
    for index in range(samples):
        at = time.perf_counter()
        run_id = send(rounds * runs + index)
        low.append((arrivals.wait([run_id])[0] - at) * 1000)
    low.sort()
    figures.update(low_p50=statistics.median(low), low_p99=_p99(low))
    first = rounds * runs + samples
    for name, pace in (paces or {}).items():
        paced = [burst(send, arrivals, runs, first + r * runs, pace) for r in range(rounds)]
        first += rounds * runs
        figures[f"paced_{name}_p50"] = statistics.median(b["burst_p50"] for b in paced)
        figures[f"paced_{name}_p99"] = statistics.median(b["burst_p99"] for b in paced)
    return figures


def _p99(values: list[float]) -> float:
    return values[min(len(values) - 1, int(len(values) * 0.99))]


def report(name: str, figures: dict[str, float], runs: int, samples: int, workers: int, concurrency: int,
           note: str) -> None:
    print(f"{name}_runs_per_s: {figures['rate']:.0f} runs/s ({runs} no-op runs, {workers} workers x "
          f"concurrency {concurrency}, {note}; median of the bursts)")
    print(f"{name}_client_send_rate: {figures['send_rate']:.0f} runs/s (how fast its client enqueued the burst; "
          "a system that keeps up with it waits little per run)")
    print(f"{name}_burst_p50: {figures['burst_p50']:.1f} ms (enqueue-to-done within the burst of {runs})")
    print(f"{name}_burst_p99: {figures['burst_p99']:.1f} ms")
    print(f"{name}_low_load_p50: {figures['low_p50']:.2f} ms (one run at a time, {samples} runs)")
    print(f"{name}_low_load_p99: {figures['low_p99']:.2f} ms")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Deployment:
    """A coordinator and `workers` worker processes on one prefix, and a subscriber to its `ended` channel."""

    def __init__(self, home: Path, url: str, prefix: str, workers: int, concurrency: int,
                 env: dict[str, str] | None = None) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
        self.env.update({"AGENTSTAGE_HOME": str(home), "AGENTSTAGE_REDIS_URL": url, "AGENTSTAGE_STREAM_PREFIX": prefix,
                         "AGENTSTAGE_LOG_LEVEL": "WARNING", "AGENTSTAGE_PROVIDER": "scripted",
                         "AGENTSTAGE_HEARTBEAT_INTERVAL": "1", **(env or {})})
        self.config = Config.from_env(self.env, dotenv=None)
        self.ops = RuntimeOps(self.config)
        self.arrivals = Arrivals(url, self.ops.layout.ended)
        cli = [sys.executable, "-m", "agentstage.runtime.cli"]
        self.processes = [subprocess.Popen([*cli, "runtime-start"], env=self.env)]
        self.processes += [subprocess.Popen([*cli, "worker-start", f"--worker-id=bench-{i}",
                                             f"--concurrency={concurrency}"], env=self.env) for i in range(workers)]
        deadline = time.monotonic() + 60
        while len([w for w in self.ops.workers() if w["alive"]]) < workers:
            if time.monotonic() > deadline:
                raise SystemExit("bench_distributed: workers did not start")
            time.sleep(0.1)
        self.run_batch(20)

    def send(self, index: int = 0) -> str:
        """Enqueue one no-op run; returns its id."""
        return self.ops.enqueue("hello")["run_id"]

    def run_batch(self, count: int) -> float:
        """Enqueue `count` runs at once (one `enqueue_many`) and wait (subscribed, not polling) until all are
        recorded; returns seconds."""
        started = time.perf_counter()
        ids = [admitted["run_id"] for admitted in self.ops.enqueue_many(["hello"] * count)]
        return max(self.arrivals.wait(ids)) - started

    def stop(self) -> None:
        self.arrivals.close()
        self.ops.close()
        _stop(self.processes)


def bench_agentstage(base: Path, url: str, workers: int, concurrency: int, runs: int, samples: int,
                     rounds: int, paces: dict[str, float]) -> dict[str, float]:
    deployment = Deployment(base / f"home-{workers}", url, f"bench{workers}", workers, concurrency)
    try:
        figures = measure(deployment.send, deployment.arrivals, runs, samples, rounds, paces)
    finally:
        deployment.stop()
    report("agentstage", figures, runs, samples, workers, concurrency, "full bookkeeping in SQLite")
    for name, pace in paces.items():
        print(f"agentstage_burst_p50_at_{name}_send_rate: {figures[f'paced_{name}_p50']:.1f} ms (the burst sent at "
              f"{pace:.0f} runs/s, {name}'s own client send rate)")
        print(f"agentstage_burst_p99_at_{name}_send_rate: {figures[f'paced_{name}_p99']:.1f} ms")
    return figures


_DRAMATIQ_APP = """import redis, dramatiq
from dramatiq.brokers.redis import RedisBroker
dramatiq.set_broker(RedisBroker(url={url!r}, namespace="bench-dramatiq"))
signal = redis.Redis.from_url({url!r})
@dramatiq.actor(max_retries=0)
def noop(run_id):
    signal.publish("bench-dramatiq:ended", run_id)
"""

_CELERY_APP = """import redis
from celery import Celery
app = Celery("bench", broker={url!r})
app.conf.worker_prefetch_multiplier = 4
app.conf.task_ignore_result = True
signal = redis.Redis.from_url({url!r})
@app.task
def noop(run_id):
    signal.publish("bench-celery:ended", run_id)
"""


def bench_peer(name: str, base: Path, url: str, workers: int, concurrency: int, runs: int,
               samples: int, rounds: int) -> dict[str, float] | None:
    """The same workload through Dramatiq or Celery (`name`), each worker a process with `concurrency` threads."""
    try:
        __import__(name)
    except ImportError:
        print(f"{name}_runs_per_s: skipped (install the bench extra: pip install -e '.[bench]')")
        return None
    module = f"bench_{name}_app"
    app_dir = base / f"{name}_app"
    app_dir.mkdir(exist_ok=True)
    (app_dir / f"{module}.py").write_text((_DRAMATIQ_APP if name == "dramatiq" else _CELERY_APP).format(url=url))
    if name == "dramatiq":
        command = [[sys.executable, "-m", "dramatiq", module, "--processes", "1", "--threads", str(concurrency)]
                   for _ in range(workers)]
    else:
        command = [[sys.executable, "-m", "celery", "-A", module, "worker", "--concurrency", str(concurrency),
                    "--pool", "threads", "-n", f"w{i}@%h", "--loglevel", "WARNING"] for i in range(workers)]
    env = {**os.environ, "PYTHONPATH": str(app_dir)}
    arrivals = Arrivals(url, f"bench-{name}:ended")
    processes = [subprocess.Popen(argv, env=env, cwd=app_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for argv in command]
    sys.path.insert(0, str(app_dir))
    try:
        noop = __import__(module).noop
        send = noop.send if name == "dramatiq" else noop.delay
        counter = iter(range(10**9))

        def enqueue(index: int) -> str:
            run_id = f"r{next(counter)}"
            send(run_id)
            return run_id

        arrivals.wait([enqueue(0) for _ in range(20)], timeout=60)
        figures = measure(enqueue, arrivals, runs, samples, rounds)
    finally:
        arrivals.close()
        _stop(processes)
    report(name, figures, runs, samples, workers, concurrency, "no result backend")
    return figures


def noop_run_records(run_id: str, session_id: str, now: str) -> list[list]:
    """The three batches the coordinator writes for one no-op run: admission, claim, end."""
    return [
        [Event(run_id, 1, "run.queued", now, session_id, {"input": "hello", "kind": "agent", "agent": "default",
                                                          "workflow": None, "metadata": {}, "attempt": 1,
                                                          "mode": "run"}),
         QueueEvent(run_id, 1, "enqueued", now, run_id, {"mode": "run"})],
        [RunAttempt(run_id, 1, "running", now, run_id, "w1", claimed_at=now)],
        [Event(run_id, 2, "run.started", now, session_id, {"agent": "default", "input": "hello", "attempt": 1,
                                                           "worker_id": "w1", "model": "scripted"},
               provider="scripted"),
         Event(run_id, 3, "llm.request", now, session_id, {"messages": 2}, provider="scripted"),
         Event(run_id, 4, "llm.response", now, session_id, {"usage": {"input_tokens": 3, "output_tokens": 2}},
               provider="scripted", duration_ms=0.1),
         Event(run_id, 5, "run.completed", now, session_id, {"output": "hello"}),
         RunAttempt(run_id, 1, "completed", now, run_id, "w1", now, None, acked_at=now)],
    ]


def store_ceiling(base: Path, runs: int, per_commit: int = 20) -> float:
    """The coordinator's bookkeeping alone: a no-op run's records through the SQLite writer, `per_commit` runs
    per transaction (its group commit under load); prints runs/s and row writes/s, returns runs/s."""
    writer = SQLiteWriter(base / "ceiling.db")
    batches = [noop_run_records(new_id(), new_id(), utc_now()) for _ in range(runs)]
    rows = sum(len(b) for run in batches for b in run) + 4  # NOTE: +4: the run and session rows, each written twice
    started = time.perf_counter()
    for first in range(0, runs, per_commit):
        writer.begin()
        for run in batches[first:first + per_commit]:
            for batch in run:
                writer.apply_batch(batch)
        writer.commit()
    elapsed = time.perf_counter() - started
    writer.close()
    rate = runs / elapsed
    print(f"store_ceiling_runs_per_s: {rate:.0f} runs/s (the SQLite writer alone, a no-op run's records, "
          f"{per_commit} runs per commit)")
    print(f"store_ceiling_row_writes_per_s: {rate * rows / runs:.0f} rows/s ({rows / runs:.0f} row writes per run)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="runs per burst (default: 2000)")
    parser.add_argument("--samples", type=int, default=200, help="low-load latency samples (default: 200)")
    parser.add_argument("--rounds", type=int, default=3, help="bursts per system; medians are printed (default: 3)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per system (default: 2)")
    parser.add_argument("--concurrency", type=int, default=8, help="tasks per worker (default: 8)")
    parser.add_argument("--peers", default="dramatiq,celery", help="peers to compare, comma-separated "
                        "(default: dramatiq,celery; empty for none)")
    parser.add_argument("--redis-url", default=None, help="use this Redis instead of a private redis-server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        server, url = (None, args.redis_url) if args.redis_url else start_redis(base)
        try:
            ceiling = store_ceiling(base, max(args.runs, 2000))
            peers = {name: bench_peer(name, base, url, args.workers, args.concurrency, args.runs, args.samples,
                                      args.rounds)
                     for name in filter(None, args.peers.split(","))}
            paces = {name: theirs["send_rate"] for name, theirs in peers.items() if theirs is not None}
            ours = bench_agentstage(base, url, args.workers, args.concurrency, args.runs, args.samples, args.rounds,
                                    paces)
            print(f"agentstage_share_of_store_ceiling: {ours['rate'] / ceiling:.2f} x")
        finally:
            if server is not None:
                server.terminate()
                server.wait()
    for name, theirs in peers.items():
        if theirs is not None:
            print(f"agentstage_vs_{name}_throughput: {ours['rate'] / theirs['rate']:.2f} x (higher is better)")
            print(f"agentstage_vs_{name}_burst_p50: {ours['burst_p50'] / theirs['burst_p50']:.2f} x (lower is better)")
    if peers.get("dramatiq"):
        print(f"target_throughput_ge_1x_dramatiq: {'met' if ours['rate'] >= peers['dramatiq']['rate'] else 'missed'}")
    if peers.get("celery"):
        met = ours["burst_p50"] <= peers["celery"]["burst_p50"]
        print(f"target_burst_p50_le_celery: {'met' if met else 'missed'}")
        met = ours["paced_celery_p50"] <= peers["celery"]["burst_p50"]
        print(f"burst_p50_le_celery_at_its_send_rate: {'met' if met else 'missed'} "
              "(both bursts offered at the same rate)")
    print(f"target_low_load_p50_le_3ms: {'met' if ours['low_p50'] <= 3.0 else 'missed'} ({ours['low_p50']:.2f} ms)")


if __name__ == "__main__":
    main()
