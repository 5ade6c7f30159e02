"""Per-step overhead of graph runs: a trivial 3-node graph with durable checkpoints, and without.

A durable step is: node actor call, then the step's events and its checkpoint committed to SQLite
(WAL) in one transaction, and only then the next node. Sequential runs give the per-step
latency (run wall time / 3 nodes, p50 over runs; the run's start checkpoint and completion are
included); concurrent runs give throughput. Prints `name: value unit` lines.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from agentstage.runtime import Config, System
from agentstage.runtime.graph import Graph, ToolNode
from agentstage.runtime.tools.registry import Tool

STEPS = 3


def trivial_graph() -> Graph:
    graph = Graph("trivial3")
    graph.add(*(ToolNode(f"n{i}", "inc", args_from={"value": "n"}, output_key="n") for i in range(STEPS)))
    return graph.chain(*(f"n{i}" for i in range(STEPS))).entry("n0")


def start(home: Path) -> System:
    config = Config.from_env({}, dotenv=None, home=str(home), provider="scripted", agent_pool_size=1)
    system = System(config)
    system.tools.register(Tool("inc", "value + 1", {"type": "object", "properties": {"value": {"type": "integer"}}},
                               lambda value: value + 1))
    system.start()
    system.register_workflow("trivial3", trivial_graph())
    return system


def sequential(system: System, runs: int, durable: bool) -> list[float]:
    per_step = []
    for i in range(runs):
        started = time.perf_counter()
        result = system.graph_run("trivial3", f"r{i}", state={"n": 0}, checkpoints=durable, timeout=60)
        per_step.append((time.perf_counter() - started) / STEPS)
        assert result.status == "completed" and result.state["n"] == STEPS
    return per_step


def concurrent(system: System, runs: int, in_flight: int, durable: bool) -> float:
    started = time.perf_counter()
    done = 0
    while done < runs:
        batch = [system.graph_run_async("trivial3", f"c{done + i}", state={"n": 0}, checkpoints=durable)
                 for i in range(min(in_flight, runs - done))]
        assert all(h.result(120).status == "completed" for h in batch)
        done += len(batch)
    return runs * STEPS / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=500, help="sequential runs per mode")
    parser.add_argument("--concurrent-runs", type=int, default=2000, help="runs for the throughput figure")
    parser.add_argument("--in-flight", type=int, default=64, help="concurrent runs in flight")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        system = start(Path(tmp))
        try:
            sequential(system, 50, True)
            for durable, label in ((True, "durable"), (False, "no_checkpoints")):
                steps = sorted(sequential(system, args.runs, durable))
                p50 = statistics.median(steps) * 1e6
                p99 = steps[int(len(steps) * 0.99) - 1] * 1e6
                print(f"graph_step_p50_{label}: {p50:.0f} us/step (sequential runs of a {STEPS}-node graph)")
                print(f"graph_step_p99_{label}: {p99:.0f} us/step")
                print(f"graph_steps_per_s_sequential_{label}: {1e6 / p50:.0f} steps/s")
                rate = concurrent(system, args.concurrent_runs, args.in_flight, durable)
                print(f"graph_steps_per_s_concurrent_{label}: {rate:.0f} steps/s ({args.in_flight} runs in flight)")
            rows = system.reader().checkpoints(system.graph_run("trivial3", "size", state={"n": 0}).run_id)
            node_rows = [r for r in rows if r["step"] > 0]
            size = statistics.mean(r["state_bytes"] for r in node_rows)
            print(f"checkpoint_bytes_per_step: {size:.0f} bytes (state JSON of the {STEPS}-node graph)")
        finally:
            system.stop()


if __name__ == "__main__":
    main()
