"""Crash tests with real processes: kill -9 a graph run at random steps, resume it in a new process.

Each child process resumes the run the previous child was killed in, then starts the next run
and pauses at a seeded-random point (before a node's function, inside a side-effecting call after
its effect, or right after a side effect was journalled but before its checkpoint) until this
test kills it with SIGKILL. Every resumed run must end like an uninterrupted run: same trace, no
node completed twice, no side effect repeated, and the SQLite file passes `PRAGMA integrity_check`.
A side-effecting call killed while it ran is never called again: its outcome is unknown, so its
node's output says so (and its effect happened at most once).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import apsw
import pytest

from agentstage.runtime.tools.journal import INTERRUPTED
from tests.graph_crash_child import Pause, open_system

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 20
# (node-execution count, phase): counts 2, 5 and 7 are the side-effecting nodes eff1, eff2, eff3.
EFFECT_NODES = {2: "eff1", 5: "eff2", 7: "eff3"}
POINTS = ([(k, "node") for k in range(1, 9)] + [(k, "call") for k in EFFECT_NODES]
          + [(k, "effect") for k in EFFECT_NODES])


def interrupted(count: int, phase: str) -> str | None:
    """The side-effecting node a kill at this point interrupts during its call (its intent, no outcome)."""
    return EFFECT_NODES.get(count) if phase in ("node", "call") else None


def expected_effect_lines(baseline_lines: list[str], plan: list[tuple[str, int, tuple[int, str]]]) -> Counter:
    """Baseline effects, without the calls killed before their effect happened (never repeated)."""
    lost = {f"{run} {interrupted(count, phase)}" for run, _, (count, phase) in plan
            if interrupted(count, phase) and phase == "node"}
    return Counter(line for line in baseline_lines if line not in lost)


def child(tmp: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    return subprocess.Popen([sys.executable, str(ROOT / "tests" / "graph_crash_child.py"), "--home", str(tmp / "home"),
                             "--db", str(tmp / "crash.db"), "--effects", str(tmp / "effects.log"), *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def drive(process: subprocess.Popen[str], kill: bool) -> dict | None:
    """Read the child's lines; SIGKILL it at PAUSED. Returns the resumed result (if it resumed one)."""
    resumed = None
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("RESUMED "):
            resumed = json.loads(line[8:])
        elif line.startswith("PAUSED"):
            assert kill, "the final child must not pause"
            os.kill(process.pid, signal.SIGKILL)
            break
        elif line.startswith("DONE "):
            raise AssertionError(f"child finished its run without pausing: {line}")
    code = process.wait(timeout=60)
    assert code == (-signal.SIGKILL if kill else 0), process.stderr.read() if process.stderr else code
    return resumed


def baseline(tmp: Path, seeds: dict[str, int]) -> tuple[dict[str, dict], list[str]]:
    """Every run uninterrupted, in this process, on a separate file."""
    effects = tmp / "baseline-effects.log"
    system = open_system(tmp / "baseline", tmp / "baseline.db", effects, Pause())
    try:
        results = {run: system.graph_run("crash10", run, run_id=run, state={"n": seed}, timeout=60).to_dict()
                   for run, seed in seeds.items()}
    finally:
        system.stop()
    return results, effects.read_text().splitlines()


@pytest.mark.timeout(600)  # 21 short-lived processes; generous for a loaded 2-core machine
def test_killed_runs_resume_to_the_uninterrupted_result(tmp_path: Path) -> None:
    rng = random.Random(20261124)
    plan = [(f"crash-{i}", rng.randrange(0, 40), rng.choice(POINTS)) for i in range(TRIALS)]
    resumed: dict[str, dict] = {}
    previous = None
    for run, seed, (count, phase) in plan:
        args = ["--start", run, "--seed", str(seed), "--pause", f"{count}:{phase}"]
        result = drive(child(tmp_path, *(["--resume", previous] if previous else []), *args), kill=True)
        if previous:
            resumed[previous] = result
        previous = run
    resumed[previous] = drive(child(tmp_path, "--resume", previous), kill=False)

    expected, expected_effects = baseline(tmp_path, {run: seed for run, seed, _ in plan})
    connection = apsw.Connection(str(tmp_path / "crash.db"))
    assert connection.execute("PRAGMA integrity_check").get == "ok"
    effects = Counter((tmp_path / "effects.log").read_text().splitlines())
    assert [line for line, n in effects.items() if n > 1] == [], "a side effect was repeated"
    assert effects == expected_effect_lines(expected_effects, plan)
    replays = 0
    for run, _, (count, phase) in plan:
        got, want = resumed[run], expected[run]
        assert got["status"] == "completed", (run, got)
        unknown = interrupted(count, phase)
        want_state = {**want["state"], unknown: {"error": INTERRUPTED}} if unknown else want["state"]
        assert (got["state"], got["output"], got["step"]) == (want_state, want["output"], want["step"]), run
        rows = list(connection.execute("SELECT step, node FROM checkpoints WHERE run_id = ? ORDER BY step", (run,)))
        assert [node for _, node in rows] == ["__start__", *want["trace"]], run
        exited = [json.loads(data) for (data,) in connection.execute(
            "SELECT data FROM events WHERE run_id = ? AND type = 'node.exited' AND error IS NULL", (run,))]
        assert sorted(e["step"] for e in exited) == list(range(1, want["step"] + 1)), f"{run}: a node completed twice"
        replays += sum(1 for e in exited if e.get("replayed"))
        if phase == "effect" or unknown:
            assert any(e.get("replayed") for e in exited), f"{run}: the journalled effect was not replayed"
        status = connection.execute("SELECT status FROM runs WHERE run_id = ?", (run,)).get
        assert status == "completed"
    assert replays == sum(1 for _, _, (count, phase) in plan if phase == "effect" or interrupted(count, phase))


@pytest.mark.timeout(300)
def test_a_side_effecting_call_killed_while_it_ran_is_never_called_again(tmp_path: Path) -> None:
    plan = [("cut-1", 3, (2, "call")), ("cut-2", 4, (5, "node")), ("cut-3", 7, (7, "call"))]
    previous = None
    resumed: dict[str, dict] = {}
    for run, seed, (count, phase) in plan:
        args = ["--start", run, "--seed", str(seed), "--pause", f"{count}:{phase}"]
        result = drive(child(tmp_path, *(["--resume", previous] if previous else []), *args), kill=True)
        if previous:
            resumed[previous] = result
        previous = run
    resumed[previous] = drive(child(tmp_path, "--resume", previous), kill=False)

    effects = Counter((tmp_path / "effects.log").read_text().splitlines())
    assert (effects["cut-1 eff1"], effects["cut-2 eff2"], effects["cut-3 eff3"]) == (1, 0, 1)
    assert max(effects.values()) == 1
    connection = apsw.Connection(str(tmp_path / "crash.db"))
    for run, _, (count, phase) in plan:
        node = EFFECT_NODES[count]
        assert resumed[run]["status"] == "completed", resumed[run]
        assert resumed[run]["state"][node] == {"error": INTERRUPTED}
        [(result,)] = connection.execute("SELECT result FROM tool_effects WHERE run_id = ? AND result LIKE ?",
                                         (run, "%outcome unknown%"))
        assert json.loads(result) == {"error": INTERRUPTED}
        assert connection.execute("SELECT count(*) FROM effect_intents WHERE run_id = ?", (run,)).get == 0
