"""Offline agent runs per second through System, and the amortized cost of one durable event write.

Each run uses the scripted provider and makes one tool call (8 events, all committed to SQLite
in WAL mode before the run's result is returned). Prints `name: value unit` lines.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pykka

from agentstage.actors.store import StoreActor, Write
from agentstage.actors.supervision import Slot
from agentstage.runtime import Config, System
from agentstage.runtime.state.records import Event
from agentstage.runtime.state.sqlite import SQLiteWriter


def bench_runs(home: Path, runs: int, pool: int, rounds: int) -> None:
    config = Config.from_env({}, dotenv=None, home=str(home), agent_pool_size=pool)
    rates, cpu = [], []
    with System(config) as system:
        system.run("calculate 1 + 1")
        for _ in range(rounds):
            started, used = time.perf_counter(), time.process_time()
            handles = [system.run_async(f"calculate {i} + 1") for i in range(runs)]
            results = [h.result(120) for h in handles]
            elapsed = time.perf_counter() - started
            cpu.append((time.process_time() - used) / runs)
            assert all(r.status == "completed" for r in results)
            rates.append(runs / elapsed)
        events = system.reader().count("events")
    print(f"agent_runs_per_s: {statistics.median(rates):.0f} runs/s (median of {rounds} x {runs} runs, pool {pool})")
    print(f"agent_runs_per_s_best: {max(rates):.0f} runs/s")
    print(f"agent_cpu_per_run: {statistics.median(cpu) * 1e6:.0f} us (process CPU of all threads, median of rounds)")
    print(f"events_per_run: {events / (runs * rounds + 1):.1f} events")


def bench_event_writes(home: Path, events: int, batch: int) -> None:
    writer = SQLiteWriter(home / "events.db")
    store = Slot("store", lambda slot: StoreActor.start(writer, None, slot))
    started = time.perf_counter()
    last = None
    for start in range(0, events, batch):
        last = pykka.ThreadingFuture()
        records = tuple(Event(f"run-{start // batch}", seq, "bench.event", "2026-01-01T00:00:00.000Z", "s",
                              {"n": seq}) for seq in range(batch))
        store.tell(Write(records, last))
    last.get(timeout=300)
    elapsed = time.perf_counter() - started
    store.stop()
    writer.close()
    print(f"event_write_amortized: {elapsed / events * 1e6:.1f} us/event ({events} events in writes of {batch})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pool", type=int, default=4)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_runs(Path(tmp), args.runs, args.pool, args.rounds)
        bench_event_writes(Path(tmp), args.events, 8)


if __name__ == "__main__":
    main()
