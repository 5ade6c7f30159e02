"""Offline eval throughput: cases per second through `run_eval` (scripted provider, SQLite), by workers,
and what the eval records (one per case plus the eval's own) add over the runs themselves.

Each case is one run with one tool call, a `contains` assertion and a required tool. Prints
`name: value unit` lines.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from agentstage.runtime import Config, System
from agentstage.runtime.evals import Assertion, EvalCase, EvalOptions, run_eval


def cases(n: int) -> list[EvalCase]:
    return [EvalCase(f"c{i}", f"calculate {i} + 1", i + 1, assertions=(Assertion("contains", value=str(i + 1)),),
                     required_tools=("calculator",)) for i in range(n)]


def bench(home: Path, n: int, workers: int) -> None:
    config = Config.from_env({}, dotenv=None, home=str(home / f"w{workers}"))
    with System(config) as system:
        system.run("calculate 1 + 1")
        started = time.perf_counter()
        report = run_eval(system, cases(n), EvalOptions(workers=workers))
        elapsed = time.perf_counter() - started
        assert report.passed == n, report.to_text()
        started = time.perf_counter()
        handles = [system.run_async(f"calculate {i} + 1") for i in range(n)]
        for handle in handles:
            handle.result(120)
        bare = time.perf_counter() - started
    print(f"eval_cases_per_s_workers_{workers}: {n / elapsed:.0f} cases/s ({n} cases)")
    print(f"eval_overhead_per_case_workers_{workers}: {(elapsed - bare) / n * 1000:.2f} ms/case "
          f"(against {n} bare runs started at once: {n / bare:.0f} runs/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for workers in args.workers:
            bench(Path(tmp), args.cases, workers)


if __name__ == "__main__":
    main()
