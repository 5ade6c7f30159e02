"""Graph execution through actors: checkpoints, routing, failure and resume, fork, human input, concurrency."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest

from agentstage.runtime import Config, System
from agentstage.runtime.errors import NotFound, RunError
from agentstage.runtime.graph import END, Graph, GraphError, HumanNode, RouterNode, ToolNode
from agentstage.runtime.state.records import ToolEffect
from agentstage.runtime.tools.journal import effect_key
from agentstage.runtime.tools.registry import Tool

NUMBER = {"type": "object", "properties": {"value": {"type": "integer"}, "amount": {"type": "integer"}},
          "required": ["value"]}


class Effects:
    """Tools for the tests: `add` is pure, `record` has a side effect, `flaky` fails while told to."""

    def __init__(self) -> None:
        self.recorded: list[int] = []
        self.failures = 0
        self.lock = threading.Lock()

    def tools(self) -> list[Tool]:
        return [
            Tool("add", "value + amount", NUMBER, lambda value, amount=1: value + amount),
            Tool("record", "append the value to a log", NUMBER, self.record, side_effects=True),
            Tool("flaky", "fails while failures remain", NUMBER, self.flaky),
        ]

    def record(self, value: int) -> int:
        with self.lock:
            self.recorded.append(value)
            return len(self.recorded)

    def flaky(self, value: int) -> int:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("disk on fire")
        return value * 10


@pytest.fixture
def effects() -> Effects:
    return Effects()


@pytest.fixture
def graphs(config: Config, effects: Effects) -> Iterator[System]:
    with System(config) as system:
        for tool in effects.tools():
            system.tools.register(tool)
        system.register_workflow("counter", counter())
        system.register_workflow("pipeline", pipeline())
        yield system


def counter() -> Graph:
    graph = Graph("counter", description="three additions")
    graph.add(ToolNode("one", "add", {"value": 0, "amount": 1}, output_key="n"),
              *(ToolNode(name, "add", {"amount": amount}, {"value": "n"}, "n") for name, amount in (("two", 2), ("three", 3))))
    return graph.chain("one", "two", "three").entry("one")


def pipeline() -> Graph:
    graph = Graph("pipeline")
    graph.add(ToolNode("save", "record", args_from={"value": "n"}, output_key="saved"),
              ToolNode("risky", "flaky", args_from={"value": "n"}, output_key="n"),
              ToolNode("finish", "add", {"amount": 1}, {"value": "n"}, "n"))
    return graph.chain("save", "risky", "finish").entry("save")


def test_a_checkpoint_commits_after_every_transition(graphs: System) -> None:
    result = graphs.graph_run_async("counter", "count").result(30)
    assert result.status == "completed" and result.trace == ("one", "two", "three")
    assert result.state == {"input": "count", "n": 6} and result.output == "6" and result.step == 3
    reader = graphs.reader()
    assert [(c["step"], c["node"], c["next_node"]) for c in reader.checkpoints(result.run_id)] == [
        (0, "__start__", "one"), (1, "one", "two"), (2, "two", "three"), (3, "three", None)]
    states = [reader.checkpoint(result.run_id, step)["state"] for step in range(4)]
    assert [s.get("n") for s in states] == [None, 1, 3, 6]
    assert all(c["state_bytes"] == len(json.dumps(s, separators=(",", ":"))) for c, s in
               zip(reader.checkpoints(result.run_id), states))
    types = [e.type for e in graphs.events(result.run_id)]
    assert types == ["run.started", "checkpoint.saved", *["node.entered", "node.exited", "checkpoint.saved"] * 3,
                     "run.completed"]
    row = graphs.get_run(result.run_id)
    assert (row.kind, row.workflow, row.status, row.output) == ("graph", "counter", "completed", "6")


def test_router_sends_the_run_down_one_path_and_agent_nodes_are_child_runs(graphs: System) -> None:
    solved = graphs.graph_run("triage", "calculate 6 * 7")
    chatted = graphs.graph_run("triage", "hello there")
    assert solved.trace == ("measure", "route", "solve") and solved.output == "6 * 7 = 42"
    assert chatted.trace == ("measure", "route", "chat") and chatted.output.startswith("Hello.")
    exited = [e for e in graphs.events(solved.run_id) if e.type == "node.exited"]
    assert exited[1].data["route"] == "calculate 6 * 7" and exited[1].data["next_node"] == "solve"
    child = graphs.get_run(exited[2].data["child_run_id"])
    assert (child.kind, child.parent_run_id, child.status, child.output) == (
        "agent", solved.run_id, "completed", "6 * 7 = 42")


def test_a_failing_node_keeps_the_checkpoint_before_it_and_resume_retries_only_it(
        graphs: System, effects: Effects) -> None:
    effects.failures = 1
    failed = graphs.graph_run("pipeline", "go", state={"n": 1})
    assert failed.status == "failed" and failed.error == "node 'risky' failed: RuntimeError: disk on fire"
    assert graphs.get_run(failed.run_id).status == "failed"
    assert graphs.reader().checkpoint(failed.run_id)["node"] == "save"
    resumed = graphs.graph_resume(failed.run_id)
    assert resumed.status == "completed" and resumed.trace == ("risky", "finish")
    assert effects.recorded == [1], "the side-effecting node before the failure ran once"
    assert resumed.state["n"] == 11 and graphs.get_run(failed.run_id).status == "completed"
    types = [e.type for e in graphs.events(failed.run_id)]
    assert types.count("run.failed") == 1 and types.count("run.resumed") == 1
    assert [e.seq for e in graphs.events(failed.run_id)] == list(range(1, len(types) + 1))


def test_a_journalled_effect_is_not_repeated_when_its_node_runs_again(graphs: System, effects: Effects) -> None:
    assert graphs.journal is not None
    graphs.journal.record(ToolEffect(effect_key("again", 1, "save"), "again", "record", 41, "2026-01-01T00:00:00.000Z"))
    result = graphs.graph_run("pipeline", "x", run_id="again", state={"n": 1})
    assert result.status == "completed" and result.state["saved"] == 41 and effects.recorded == []
    saved = [e for e in graphs.events("again") if e.type == "node.exited"][0]
    assert saved.data["replayed"] is True


def test_resume_of_a_finished_run_is_a_no_op_and_of_an_unknown_run_an_error(graphs: System) -> None:
    done = graphs.graph_run("counter", "x")
    again = graphs.graph_resume(done.run_id)
    assert again.status == "completed" and again.trace == () and "nothing to resume" in again.note
    assert len(graphs.events(done.run_id)) == len(graphs.events(again.run_id))
    with pytest.raises(NotFound, match="unknown run: nope"):
        graphs.graph_resume("nope")
    agent_run = graphs.run("hello")
    with pytest.raises(RunError, match="not a graph run"):
        graphs.graph_resume(agent_run.run_id)
    with pytest.raises(RunError, match="not waiting for input"):
        graphs.graph_resume(_failed_run(graphs), input="hi")


def _failed_run(system: System) -> str:
    graph = Graph("fails").add(ToolNode("boom", "add", args_from={"value": "missing"})).entry("boom")
    system.register_workflow("fails", graph, replace=True)
    result = system.graph_run("fails", "x")
    assert result.status == "failed" and "no key 'missing'" in (result.error or "")
    return result.run_id


def test_fork_starts_a_new_run_from_any_checkpoint_with_a_state_patch(graphs: System) -> None:
    source = graphs.graph_run("counter", "x")
    forked = graphs.graph_fork(source.run_id, 1, {"n": 100})
    assert forked.run_id != source.run_id and forked.status == "completed"
    assert forked.trace == ("two", "three") and forked.state["n"] == 105
    row = graphs.get_run(forked.run_id)
    assert row.metadata == {"forked_from": source.run_id, "fork_step": 1} and row.session_id == source.session_id
    assert [c["step"] for c in graphs.reader().checkpoints(forked.run_id)] == [1, 2, 3]
    assert graphs.reader().checkpoint(source.run_id)["state"]["n"] == 6
    with pytest.raises(NotFound):
        graphs.graph_fork(source.run_id, 9)


def test_human_node_pauses_the_run_until_resume_brings_input(graphs: System) -> None:
    graph = Graph("review", max_steps=10)
    graph.add(ToolNode("draft", "add", {"amount": 1}, {"value": "n"}, "n"),
              HumanNode("approve", prompt="ship it?", output_key="verdict"),
              RouterNode("decide", key="verdict", routes={"yes": END}, default="draft"))
    graphs.register_workflow("review", graph.chain("draft", "approve", "decide").entry("draft"))
    paused = graphs.graph_run("review", "text", state={"n": 0})
    assert paused.status == "waiting" and paused.waiting_for == "approve" and paused.prompt == "ship it?"
    assert graphs.get_run(paused.run_id).status == "waiting"
    with pytest.raises(RunError, match="waiting for input"):
        graphs.graph_resume(paused.run_id)
    again = graphs.graph_resume(paused.run_id, input="no")
    assert again.status == "waiting" and again.trace == ("approve", "decide", "draft")
    done = graphs.graph_resume(paused.run_id, input="yes")
    assert done.status == "completed" and done.state["verdict"] == "yes" and done.trace == ("approve", "decide")
    assert graphs.get_run(paused.run_id).status == "completed"


def test_many_runs_of_one_graph_execute_at_once(graphs: System) -> None:
    handles = [graphs.graph_run_async("counter", f"run {i}") for i in range(40)]
    results = [h.result(60) for h in handles]
    assert {r.status for r in results} == {"completed"} and {r.state["n"] for r in results} == {6}
    assert len({r.run_id for r in results}) == 40
    assert graphs.reader().count("checkpoints") == 40 * 4


def test_max_steps_bounds_a_cycle(graphs: System) -> None:
    graph = Graph("spin", max_steps=5)
    graph.add(ToolNode("inc", "add", args_from={"value": "n"}, output_key="n"),
              RouterNode("again", func=lambda state: "stop" if state["n"] > 100 else "go",
                         routes={"stop": END}, default="inc"))
    graphs.register_workflow("spin", graph.chain("inc", "again").entry("inc"))
    result = graphs.graph_run("spin", "x", state={"n": 0})
    assert result.status == "failed" and result.error == "max_steps (5) reached before node 'again'"
    assert result.trace == ("inc", "again", "inc", "again", "inc")


def test_unknown_tools_and_agents_are_refused_before_the_run_starts(graphs: System) -> None:
    graph = Graph("ghosts").add(ToolNode("t", "teleport")).entry("t")
    graphs.register_workflow("ghosts", graph)
    with pytest.raises(GraphError, match="unknown tool 'teleport'"):
        graphs.graph_run("ghosts", "x")
    with pytest.raises(NotFound, match="unknown workflow: nope"):
        graphs.graph_run("nope", "x")


def test_runs_without_checkpoints_complete_and_write_none(graphs: System) -> None:
    result = graphs.graph_run("counter", "x", checkpoints=False)
    assert result.status == "completed" and result.state["n"] == 6
    assert graphs.reader().checkpoints(result.run_id) == []


def test_a_restarted_graph_actor_carries_on_with_the_runs_in_flight(graphs: System) -> None:
    gate = threading.Event()
    graphs.tools.register(Tool("hold", "wait for the gate", NUMBER, lambda value: gate.wait(30) and value))
    graph = Graph("held").add(ToolNode("hold", "hold", {"value": 5}, output_key="n"),
                              ToolNode("inc", "add", args_from={"value": "n"}, output_key="n"))
    graphs.register_workflow("held", graph.chain("hold", "inc").entry("hold"))
    handle = graphs.graph_run_async("held", "x")
    assert graphs.graphs is not None
    slot = graphs.graphs._actor("held")
    slot.tell("not a graph message")  # the actor crashes on it and its slot starts a successor
    deadline = time.monotonic() + 10
    while slot.restarts == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.set()
    result = handle.result(30)
    assert slot.restarts == 1 and result.status == "completed" and result.state["n"] == 6


def test_state_is_json_so_a_resumed_run_sees_what_the_first_saw(graphs: System) -> None:
    graphs.tools.register(Tool("odd", "non-JSON values", {"type": "object"}, lambda: {"pair": (1, 2), 3: "three"}))
    graphs.register_workflow("odd", Graph("odd").add(ToolNode("o", "odd", output_key="v")).entry("o"))
    result = graphs.graph_run("odd", "x")
    assert result.state["v"] == {"pair": [1, 2], "3": "three"}
    assert graphs.reader().checkpoint(result.run_id)["state"] == result.state


def test_cancel_stops_a_running_graph_at_the_next_step_boundary(graphs: System) -> None:
    entered, release = threading.Event(), threading.Event()

    def gate(value: int) -> int:
        entered.set()
        assert release.wait(20)
        return value

    graphs.tools.register(Tool("gate", "waits until released", NUMBER, gate))
    graph = Graph("gated")
    graph.add(ToolNode("hold", "gate", {"value": 1}, output_key="n"),
              ToolNode("after", "add", {"amount": 1}, {"value": "n"}, "n"))
    graphs.register_workflow("gated", graph.chain("hold", "after").entry("hold"))
    handle = graphs.graph_run_async("gated", "go")
    assert entered.wait(20)
    graphs.cancel(handle.run_id)
    release.set()
    result = handle.result(20)
    assert result.status == "cancelled" and result.trace == ("hold",)
    assert graphs.get_run(handle.run_id).status == "cancelled"
    assert [c["node"] for c in graphs.reader().checkpoints(handle.run_id)][-1] == "hold"


def test_set_nodes_run_in_the_graph_actor_and_a_failing_one_fails_the_run(graphs: System) -> None:
    from agentstage.runtime.graph import SetNode

    def stamp(state, run):
        return {"seen": f"{state['input']} in {run['run_id']}"}

    graph = Graph("stamps").add(SetNode("fixed", {"a": 1}), SetNode("stamp", func=stamp)).chain("fixed", "stamp")
    graphs.register_workflow("stamps", graph.entry("fixed"))
    done = graphs.graph_run_async("stamps", "hi").result(30)
    assert done.status == "completed" and done.state["a"] == 1 and done.state["seen"] == f"hi in {done.run_id}"
    assert [c["node"] for c in graphs.reader().checkpoints(done.run_id)] == ["__start__", "fixed", "stamp"]

    def boom(state, run):
        raise ValueError("no luck")

    graphs.register_workflow("booms", Graph("booms").add(SetNode("boom", func=boom)).entry("boom"))
    failed = graphs.graph_run_async("booms", "hi").result(30)
    assert failed.status == "failed" and "ValueError: no luck" in failed.error
