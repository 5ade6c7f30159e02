"""Tool-layer throughput: selection expansion, secret redaction, a custom HTTP tool on a local server,
session memory writes through the store, and secops workflow runs in-process.

Prints `name: value unit` lines. Offline: the HTTP server is local, the provider is scripted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from agentstage.runtime import Config, System  # noqa: E402
from agentstage.runtime.tools.redaction import redact_secrets  # noqa: E402
from tests.local_http import LocalHTTP  # noqa: E402


def rate(action: Callable[[], object], count: int, rounds: int) -> float:
    """Median operations per second over `rounds` rounds of `count` calls."""
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(count):
            action()
        rates.append(count / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-tools-"))
    log_text = (ROOT / "examples/secops/app-secrets.log").read_text() * 100
    started = time.perf_counter()
    for _ in range(5):
        redact_secrets(log_text)
    mb = len(log_text.encode()) * 5 / 1e6
    print(f"redaction_throughput: {mb / (time.perf_counter() - started):.1f} MB/s (25 patterns)")
    report = (ROOT / "examples/secops/trivy-shop-api.json").read_text()
    logs = (ROOT / "examples/secops/app-secrets.log").read_text()
    with LocalHTTP() as http:
        http.routes["/echo"] = (200, {"ok": True})
        config = Config.from_env({}, dotenv=None, home=str(home), agent_pool_size=2)
        with System(config) as system:
            print(f"selection_expand: {rate(lambda: system.tools.expand('@all,@default,@security,json_parser'), 2000, args.rounds):.0f} ops/s")
            system.catalog.create_custom_tool({"name": "echo", "url": f"{http.url}/echo", "method": "POST"})
            echo = system.tools.get("echo")
            print(f"custom_http_tool_calls: {rate(lambda: echo({'n': 1}), 200, args.rounds):.0f} calls/s")
            memory = system.tools.get("memory_store")
            counter = iter(range(10**9))
            print(f"memory_store_set: {rate(lambda: memory({'operation': 'set', 'key': f'k{next(counter) % 500}', 'value': 1, '_session_id': 's'}), 200, args.rounds):.0f} writes/s (each committed)")
            print(f"secops_trivy_runs: {rate(lambda: system.graph_run('secops', report), 20, args.rounds):.1f} runs/s (5 nodes, checkpointed)")
            print(f"secops_logs_runs: {rate(lambda: system.graph_run('secops', logs), 20, args.rounds):.1f} runs/s (6 nodes, checkpointed)")


if __name__ == "__main__":
    main()
