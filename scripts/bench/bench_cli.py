"""CLI start-up cost: `agentstage --help` and an offline `agentstage run`, next to `python3 -c pass`.

Runs the venv's installed `agentstage` console script (the one next to this interpreter) with a
temporary AGENTSTAGE_HOME and no `.env`, the baseline being `python3 -c pass` with the same
interpreter, in interleaved rounds (one of each command per round, so
a burst of load on the machine hits all of them alike). Prints, per command, the median and p90 of
wall time and of CPU time (user + system of the child), and each median's ratio to `python3 -c
pass` measured in the same rounds. Prints `name: value unit` lines; the issue's targets are
wall-time medians (`--help` <= 0.25 s, offline run <= 0.5 s). PYTHONDONTWRITEBYTECODE is dropped
from the children's environment, so the first (unmeasured) run leaves the bytecode caches an
installed package has: without them every start compiles the project's modules again.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"help": 0.25, "offline_run": 0.5}
COMMANDS = {
    "python_c_pass": ["{python}", "-c", "pass"],
    "help": ["{agentstage}", "--help"],
    "offline_run": ["{agentstage}", "run", "--", "calculate 6 * 7"],
}


def console_script() -> str:
    """The `agentstage` script installed beside this interpreter (the venv's), not one on PATH."""
    script = Path(sys.executable).parent / "agentstage"
    if not script.exists():
        raise SystemExit(f"no agentstage console script at {script}: install the package into this venv")
    return str(script)


def run_child(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `argv`, the CPU from the child's own rusage."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {process.returncode}: {err.decode()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def p90(values: list[float]) -> float:
    """The 90th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds (default 20)")
    args = parser.parse_args()
    agentstage = console_script()
    with tempfile.TemporaryDirectory() as tmp:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("AGENTSTAGE_") and key != "PYTHONDONTWRITEBYTECODE"}
        env |= {"AGENTSTAGE_HOME": str(Path(tmp) / "home"), "AGENTSTAGE_PROVIDER": "scripted", "NO_COLOR": "1"}
        names = {"{agentstage}": agentstage, "{python}": sys.executable}
        commands = {name: [names.get(part, part) for part in argv] for name, argv in COMMANDS.items()}
        run_child(commands["offline_run"], env, tmp)   # creates the home and its store: later runs find it
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, argv in commands.items():
                seconds, used = run_child(argv, env, tmp)
                wall[name].append(seconds)
                cpu[name].append(used)
    base_wall = statistics.median(wall["python_c_pass"])
    base_cpu = statistics.median(cpu["python_c_pass"])
    load = os.getloadavg()
    print(f"rounds: {args.rounds} (interleaved); load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"{os.cpu_count()} cpus; script {agentstage}")
    for name in commands:
        median_wall, median_cpu = statistics.median(wall[name]), statistics.median(cpu[name])
        target = f", target <= {TARGETS[name]} s: {'met' if median_wall <= TARGETS[name] else 'NOT met'}" \
            if name in TARGETS else ""
        print(f"{name}_wall: median {median_wall:.3f} s, p90 {p90(wall[name]):.3f} s, "
              f"{median_wall / base_wall:.1f}x python -c pass{target}")
        print(f"{name}_cpu: median {median_cpu:.3f} s, p90 {p90(cpu[name]):.3f} s, "
              f"{median_cpu / base_cpu:.1f}x python -c pass")


if __name__ == "__main__":
    main()
