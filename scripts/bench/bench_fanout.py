"""Fan-out overhead per branch: one map node over N items against N tool nodes in a chain.

Both graphs run the same no-op tool N times with durable checkpoints (one per finished branch, one
per chained node), so the difference is what a branch costs beyond a plain step. Prints
`name: value unit` lines: per-branch and per-step time (median of rounds), their ratio, and the
checkpoint bytes written per branch and per step (which should not grow with the width).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from agentstage.runtime import Config, System
from agentstage.runtime.graph import Graph, MapNode, ToolNode
from agentstage.runtime.tools.registry import Tool


def graphs(width: int, concurrency: int | None) -> tuple[Graph, Graph]:
    fan = Graph("bench-fan").add(MapNode("each", items="items", node=ToolNode("each", "noop", args_from={"x": "item"}),
                                   max_concurrency=concurrency)).entry("each")
    chain = Graph("bench-chain").add(*(ToolNode(f"n{i}", "noop", args={"x": i}) for i in range(width)))
    return fan, chain.chain(*(f"n{i}" for i in range(width))).entry("n0")


def start(home: Path, width: int, concurrency: int | None) -> System:
    config = Config.from_env({}, dotenv=None, home=str(home), provider="scripted", agent_pool_size=1)
    system = System(config)
    system.tools.register(Tool("noop", "returns x", {"type": "object", "properties": {"x": {}}}, lambda x=None: x))
    system.start()
    fan, chain = graphs(width, concurrency)
    try:
        system.register_workflow("bench-fan", fan)
        system.register_workflow("bench-chain", chain)
    except Exception:
        system.stop()
        raise
    return system


def per_unit(system: System, workflow: str, width: int, rounds: int) -> tuple[float, str]:
    """Median seconds per branch (or per chained node) of `rounds` sequential runs, and the last run's id."""
    times, run_id = [], ""
    for i in range(rounds):
        started = time.perf_counter()
        result = system.graph_run(workflow, f"r{i}", state={"items": list(range(width))}, timeout=300)
        times.append((time.perf_counter() - started) / width)
        assert result.status == "completed", result.error
        run_id = result.run_id
    return statistics.median(times), run_id


def checkpoint_bytes(system: System, run_id: str) -> int:
    """State bytes of every checkpoint a run wrote."""
    return sum(c["state_bytes"] for c in system.reader().checkpoints(run_id))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=100, help="branches (and chained nodes) per run")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=0, help="max_concurrency of the map node (0: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        system = start(Path(home), args.width, args.concurrency or None)
        try:
            per_unit(system, "bench-fan", args.width, 1)
            per_unit(system, "bench-chain", args.width, 1)
            branch, fan_run = per_unit(system, "bench-fan", args.width, args.rounds)
            step, chain_run = per_unit(system, "bench-chain", args.width, args.rounds)
            fan_bytes, chain_bytes = checkpoint_bytes(system, fan_run), checkpoint_bytes(system, chain_run)
        finally:
            system.stop()
    print(f"fanout_per_branch: {branch * 1000:.3f} ms (width {args.width}, max_concurrency "
          f"{args.concurrency or 'all'})")
    print(f"chain_per_step: {step * 1000:.3f} ms")
    print(f"branch_vs_step: {branch / step:.2f}x")
    print(f"checkpoint_bytes_per_branch: {fan_bytes / args.width:.0f} B (the chain: {chain_bytes / args.width:.0f} B"
          f" per step)")


if __name__ == "__main__":
    main()
