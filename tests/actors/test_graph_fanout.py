"""Parallel and map nodes through actors: branches at once within max_concurrency, results joined in
order, one checkpoint per finished branch, and a failed or resumed run re-running only unfinished branches."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentstage.runtime import Config, System
from agentstage.runtime.graph import AgentNode, Graph, MapNode, ParallelNode, ToolNode
from agentstage.runtime.tools.registry import Tool

ROOT = Path(__file__).resolve().parents[2]
TEXT = {"type": "object", "properties": {"text": {}}, "required": ["text"]}


class Work:
    """A tool that records every call, holds `limit` calls at a barrier, and fails items while told to."""

    def __init__(self) -> None:
        self.calls: list[object] = []
        self.fail: set[object] = set()
        self.running = 0
        self.most = 0
        self.barrier: threading.Barrier | None = None
        self.lock = threading.Lock()

    def __call__(self, text: object) -> str:
        with self.lock:
            self.calls.append(text)
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            if self.barrier is not None:
                self.barrier.wait(timeout=20)
            if text in self.fail:
                self.fail.discard(text)
                raise RuntimeError(f"cannot do {text}")
            return str(text).upper()
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def work() -> Work:
    return Work()


@pytest.fixture
def graphs(config: Config, work: Work) -> Iterator[System]:
    with System(config.replace(graph_node_pool="4")) as system:
        system.tools.register(Tool("work", "upper-case the text", TEXT, work))
        yield system


def mapping(max_concurrency: int | None = None, reducer: str = "list") -> Graph:
    node = MapNode("each", items="words", node=ToolNode("each", "work", args_from={"text": "item"}),
                   max_concurrency=max_concurrency, reducer=reducer, output_key="done")
    return Graph("each").add(node).entry("each")


def test_a_map_node_runs_one_branch_per_item_and_joins_them_in_item_order(graphs: System, work: Work) -> None:
    graphs.register_workflow("each", mapping())
    result = graphs.graph_run("each", "x", state={"words": ["a", "b", "c"]})
    assert result.status == "completed" and result.state["done"] == ["A", "B", "C"]
    assert sorted(work.calls) == ["a", "b", "c"] and "__fanout__" not in result.state
    events = graphs.events(result.run_id)
    completed = [e.data for e in events if e.type == "branch.completed"]
    assert sorted(d["branch"] for d in completed) == ["each[0]", "each[1]", "each[2]"]
    assert [d["step"] for d in completed] == [1, 2, 3] and [d["remaining"] for d in completed] == [2, 1, 0]
    checkpoints = graphs.reader().checkpoints(result.run_id)
    assert [(c["step"], c["next_node"]) for c in checkpoints] == [(0, "each"), (1, "each"), (2, "each"), (3, None)]


def test_max_concurrency_bounds_the_branches_running_at_once(graphs: System, work: Work) -> None:
    work.barrier = threading.Barrier(2)
    graphs.register_workflow("each", mapping(max_concurrency=2))
    result = graphs.graph_run("each", "x", state={"words": ["a", "b", "c", "d"]}, timeout=60)
    assert result.status == "completed" and result.state["done"] == ["A", "B", "C", "D"]
    assert work.most == 2, "two at once (the barrier needs both), never more"


def test_a_failed_branch_fails_the_run_and_resume_reruns_only_unfinished_branches(graphs: System, work: Work) -> None:
    work.fail = {"b"}
    graphs.register_workflow("each", mapping(max_concurrency=1))
    failed = graphs.graph_run("each", "x", state={"words": ["a", "b", "c"]})
    assert failed.status == "failed"
    assert failed.error == "branch 'each[1]' of node 'each' failed: RuntimeError: cannot do b"
    resumed = graphs.graph_resume(failed.run_id)
    assert resumed.status == "completed" and resumed.state["done"] == ["A", "B", "C"]
    assert work.calls == ["a", "b", "b", "c"], "a ran once; b again after its failure; c once"


def test_a_fork_from_a_branch_checkpoint_runs_only_the_remaining_branches(graphs: System, work: Work) -> None:
    graphs.register_workflow("each", mapping(max_concurrency=1))
    source = graphs.graph_run("each", "x", state={"words": ["a", "b", "c"]})
    work.calls.clear()
    forked = graphs.graph_fork(source.run_id, 1)
    assert forked.status == "completed" and forked.state["done"] == ["A", "B", "C"]
    assert work.calls == ["b", "c"]


def test_a_parallel_node_runs_agent_and_tool_branches_as_child_runs_and_keys(graphs: System) -> None:
    node = ParallelNode("both", branches=(AgentNode("calc", prompt="calculate 6 * 7", output_key="sum"),
                                          ToolNode("shout", "work", args_from={"text": "input"})))
    graphs.register_workflow("both", Graph("both").add(node).entry("both"))
    result = graphs.graph_run("both", "hey")
    assert result.status == "completed"
    assert result.state["sum"] == "6 * 7 = 42" and result.state["shout"] == "HEY"
    assert result.state["both"] == {"calc": "6 * 7 = 42", "shout": "HEY"}
    child = graphs.get_run(f"{result.run_id}.1.1")
    assert (child.kind, child.parent_run_id, child.status) == ("agent", result.run_id, "completed")


@pytest.mark.parametrize(("reducer", "joined"), [("concat", "A\n\nB"), ("dict", {"each[0]": "A", "each[1]": "B"})])
def test_reducers_join_the_results(graphs: System, reducer: str, joined: object) -> None:
    graphs.register_workflow("each", mapping(reducer=reducer))
    assert graphs.graph_run("each", "x", state={"words": ["a", "b"]}).state["done"] == joined


def test_a_python_reducer_and_a_reducer_that_cannot_join(graphs: System) -> None:
    node = MapNode("each", items="words", node=ToolNode("each", "work", args_from={"text": "item"}),
                   reducer=lambda values: "+".join(values))
    graphs.register_workflow("joined", Graph("joined").add(node).entry("each"))
    assert graphs.graph_run("joined", "x", state={"words": ["a", "b"]}).state["each"] == "A+B"
    graphs.register_workflow("merge", mapping(reducer="merge"))
    failed = graphs.graph_run("merge", "x", state={"words": ["a"]})
    assert failed.status == "failed" and "reducer merge needs objects, branch 'each[0]' gave str" in failed.error


def test_items_from_a_string_and_an_empty_list_and_a_bad_value(graphs: System) -> None:
    graphs.register_workflow("each", mapping())
    assert graphs.graph_run("each", "x", state={"words": "a\nb\n"}).state["done"] == ["A", "B"]
    assert graphs.graph_run("each", "x", state={"words": '["c"]'}).state["done"] == ["C"]
    assert graphs.graph_run("each", "x", state={"words": []}).state["done"] == []
    bad = graphs.graph_run("each", "x", state={"words": 7})
    assert bad.status == "failed" and "state key 'words' is not a list (got int)" in bad.error


def _child(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    return subprocess.Popen([sys.executable, str(ROOT / "tests" / "fanout_crash_child.py"),
                             "--home", str(tmp_path / "home"), "--db", str(tmp_path / "state.db"),
                             "--calls", str(tmp_path / "calls.log"), *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_process_killed_inside_one_branch_resumes_only_the_unfinished_branches(tmp_path: Path) -> None:
    started = _child(tmp_path, "--start", "fan", "--pause-at", "slow")
    assert started.stdout is not None
    assert started.stdout.readline().strip() == "PAUSED", started.stderr.read() if started.stderr else ""
    os.kill(started.pid, signal.SIGKILL)
    assert started.wait(timeout=30) == -signal.SIGKILL
    resumed = _child(tmp_path, "--resume", "fan")
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESUMED "))[8:])
    assert result["status"] == "completed" and result["state"]["done"] == ["A", "B", "SLOW", "D"]
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls == ["a", "b", "slow", "slow", "d"], "a and b finished before the kill and never ran again"
