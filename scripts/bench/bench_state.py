"""State backends: hot reads (a run's status + its latest checkpoint) and the Hybrid write overhead.

Starts a private redis-server, writes `--runs` runs (events + checkpoints of `--state-bytes`)
through the Hybrid writer, then, while another process writes continuously through a Hybrid
writer on the same file and Redis, times `get_run(id).status` + `checkpoint(id)` on the SQLite,
Redis and Hybrid readers (warm connections; SQLite also with a connection opened per read, as a
separate short-lived process would). Then times writing the same batches (one run's records)
through a plain SQLite writer and a Hybrid writer, one batch per commit and 20 per commit (the
StoreActor's group commit under load): throughput per batch while the copier runs beside the
writer, and the median time a caller waits for its commit. Prints `name: value unit` lines.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis

from agentstage.runtime.state.hybrid import HybridWriter
from agentstage.runtime.state.hybrid_reader import HybridReader
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.records import Checkpoint, Event
from agentstage.runtime.state.redis_layout import connect
from agentstage.runtime.state.redis_reader import RedisReader
from agentstage.runtime.state.sqlite import SQLiteWriter

PREFIX = "bench"


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("bench_state: redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
                                "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                sys.exit("bench_state: redis-server did not start")
            time.sleep(0.05)
    client.close()
    return process, f"redis://127.0.0.1:{port}/0"


def run_records(run_id: str, events: int, checkpoints: int, state_bytes: int) -> list:
    ts = "2030-01-01T00:00:00.000Z"
    records: list = [Event(run_id, 1, "run.started", ts, f"s-{run_id[:4]}", {"input": "q", "kind": "agent"},
                           provider="scripted")]
    for seq in range(2, events):
        records.append(Event(run_id, seq, "llm.response", ts, f"s-{run_id[:4]}",
                             {"content": "x" * 80, "usage": {"input_tokens": 10, "output_tokens": 5}},
                             provider="scripted", duration_ms=3.0))
    records.append(Event(run_id, events, "run.completed", ts, f"s-{run_id[:4]}", {"output": "done"}))
    for step in range(1, checkpoints + 1):
        records.append(Checkpoint(run_id, step, f"n{step}", f"n{step + 1}", {"blob": "y" * state_bytes}, ts))
    return records


def write_load(path: str, url: str, stop, state_bytes: int) -> None:
    """Another process writing continuously (new runs) through its own Hybrid writer."""
    writer = HybridWriter(SQLiteWriter(path), connect(url), PREFIX)
    n = 0
    while not stop.is_set():
        writer.write(run_records(f"load-{n:08d}", 8, 2, state_bytes))
        n += 1
    writer.close()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def time_reads(read: Callable[[str], None], run_ids: list[str], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        run_id = random.choice(run_ids)
        started = time.perf_counter()
        read(run_id)
        samples.append((time.perf_counter() - started) * 1e6)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--state-bytes", type=int, default=2000)
    parser.add_argument("--write-batches", type=int, default=400)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_state_"))
    server, url = start_redis(tmp)
    try:
        path = str(tmp / "state.db")
        client = connect(url)
        writer = HybridWriter(SQLiteWriter(path), client, PREFIX)
        run_ids = [f"run-{n:08d}" for n in range(args.runs)]
        for run_id in run_ids:
            writer.write(run_records(run_id, 8, 3, args.state_bytes))
        writer.close()

        sqlite = SQLiteReader(path)
        readers: dict[str, Callable[[str], None]] = {
            "sqlite": lambda r: (sqlite.get_run(r).status, sqlite.checkpoint(r)),
            "sqlite_cold": lambda r: _cold_read(path, r),
            "redis": (lambda rr: lambda r: (rr.get_run(r).status, rr.checkpoint(r)))(RedisReader(client, PREFIX)),
            "hybrid": (lambda h: lambda r: (h.get_run(r).status, h.checkpoint(r)))(
                HybridReader(SQLiteReader(path), client, PREFIX)),
        }
        stop = multiprocessing.Event()
        load = multiprocessing.Process(target=write_load, args=(path, url, stop, args.state_bytes))
        load.start()
        time.sleep(0.5)
        results = {}
        for name, read in readers.items():
            time_reads(read, run_ids, 200)
            results[name] = percentiles(time_reads(read, run_ids, args.reads))
        stop.set()
        load.join()
        for name, (p50, p99) in results.items():
            print(f"read_{name}_p50: {p50:.1f} us")
            print(f"read_{name}_p99: {p99:.1f} us")
        print(f"hybrid_read_speedup_vs_sqlite_p50: {results['sqlite'][0] / results['hybrid'][0]:.2f} x")
        print(f"hybrid_read_speedup_vs_sqlite_cold_p50: {results['sqlite_cold'][0] / results['hybrid'][0]:.2f} x")

        for group in (1, 20):
            costs: dict[str, list[float]] = {}
            waits: dict[str, list[float]] = {}
            for name in ("sqlite", "hybrid", "sqlite", "hybrid"):
                file = tmp / f"write-{name}-{random.getrandbits(32)}.db"
                plain = SQLiteWriter(file)
                target = plain if name == "sqlite" else HybridWriter(plain, client, f"{PREFIX}-w{file.stem}")
                batches = [run_records(f"w-{n:06d}", 8, 1, args.state_bytes) for n in range(args.write_batches)]
                started = time.perf_counter()
                for first in range(0, len(batches), group):
                    began = time.perf_counter()
                    target.begin()
                    for batch in batches[first:first + group]:
                        target.apply_batch(batch)
                    target.commit()
                    waits.setdefault(name, []).append((time.perf_counter() - began) * 1e6)
                costs.setdefault(name, []).append((time.perf_counter() - started) / len(batches) * 1e6)
                if isinstance(target, HybridWriter):
                    target.drain(60)
                target.close()
            sqlite_cost, hybrid_cost = min(costs["sqlite"]), min(costs["hybrid"])
            print(f"write_sqlite_per_batch_group{group}: {sqlite_cost:.1f} us")
            print(f"write_hybrid_per_batch_group{group}: {hybrid_cost:.1f} us")
            print(f"hybrid_write_overhead_group{group}: {(hybrid_cost / sqlite_cost - 1) * 100:.1f} %")
            print(f"commit_wait_sqlite_p50_group{group}: {statistics.median(waits['sqlite']):.1f} us")
            print(f"commit_wait_hybrid_p50_group{group}: {statistics.median(waits['hybrid']):.1f} us")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def _cold_read(path: str, run_id: str) -> None:
    reader = SQLiteReader(path)
    try:
        reader.get_run(run_id)
        reader.checkpoint(run_id)
    finally:
        reader.close()


if __name__ == "__main__":
    main()
