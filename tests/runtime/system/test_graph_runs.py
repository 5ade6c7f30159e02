"""GraphRuns: the reusable "continue run X from checkpoint Y" operation and its guards."""

from __future__ import annotations

import asyncio
import threading

import pytest

from agentstage.runtime import System
from agentstage.runtime.errors import RunError
from agentstage.runtime.graph import Graph, ToolNode
from agentstage.runtime.clock import utc_now
from agentstage.runtime.system.graph_runs import last_seq
from agentstage.runtime.state.records import Event
from agentstage.runtime.tools.registry import Tool

VALUE = {"type": "object", "properties": {"value": {"type": "integer"}}, "required": ["value"]}


def test_continue_from_runs_the_rest_after_any_checkpoint(system: System) -> None:
    system.tools.register(Tool("inc", "value + 1", VALUE, lambda value: value + 1))
    graph = Graph("inc3").add(*(ToolNode(f"n{i}", "inc", args_from={"value": "n"}, output_key="n") for i in range(3)))
    system.register_workflow("inc3", graph.chain("n0", "n1", "n2").entry("n0"))
    first = system.graph_run("inc3", "x", state={"n": 0})
    assert system.graphs is not None
    seq = last_seq(system.reader(), first.run_id)
    assert seq == max(e.seq for e in system.events(first.run_id))
    checkpoint = system.reader().checkpoint(first.run_id, 1)
    again = system.graphs.continue_from("inc3", first.run_id, first.session_id, checkpoint).result(30)
    assert again.status == "completed" and again.trace == ("n1", "n2") and again.state["n"] == 3
    events = system.events(first.run_id)
    assert events[seq].seq == seq + 1 and events[seq].type == "run.resumed"


def test_a_graph_run_is_awaited_on_an_event_loop(system: System) -> None:
    system.tools.register(Tool("inc", "value + 1", VALUE, lambda value: value + 1))
    graph = Graph("inc2").add(*(ToolNode(f"n{i}", "inc", args_from={"value": "n"}, output_key="n") for i in range(2)))
    system.register_workflow("inc2", graph.chain("n0", "n1").entry("n0"))

    async def run() -> int:
        result = await system.graph_run_async("inc2", "x", state={"n": 0}).result_async(30)
        return result.state["n"]

    assert asyncio.run(run()) == 2


def test_a_run_cannot_execute_twice_at_once(system: System) -> None:
    gate = threading.Event()
    system.tools.register(Tool("wait", "block until released", VALUE, lambda value: gate.wait(30) and value))
    system.register_workflow("slow", Graph("slow").add(ToolNode("w", "wait", {"value": 1})).entry("w"))
    assert system.graphs is not None
    handle = system.graph_run_async("slow", "x", run_id="busy")
    try:
        checkpoint = {"step": 0, "next_node": "w", "state": {"input": "x"}}
        with pytest.raises(RunError, match="already executing"):
            system.graphs.continue_from("slow", "busy", handle.session_id, checkpoint, first_seq=100).result(30)
        assert system.graphs.active() == ["busy"]
    finally:
        gate.set()
    assert handle.result(30).status == "completed" and system.graphs.active() == []


def test_a_chosen_run_id_may_be_new_or_queued_but_not_reused(system: System) -> None:
    system.tools.register(Tool("inc", "value + 1", VALUE, lambda value: value + 1))
    system.register_workflow("one", Graph("one").add(ToolNode("n", "inc", {"value": 1})).entry("n"))
    assert system.graph_run("one", "x", run_id="mine").status == "completed"
    with pytest.raises(RunError, match="already exists"):
        system.graph_run("one", "x", run_id="mine")
    system.write([Event("queued-1", 1, "run.queued", utc_now(), "s", {"kind": "graph", "workflow": "one",
                                                                          "input": "x"})])
    result = system.graph_run("one", "x", run_id="queued-1")
    assert result.status == "completed"
    assert [e.type for e in system.events("queued-1")][:3] == ["run.queued", "run.started", "checkpoint.saved"]


def test_a_graph_run_counts_the_tokens_of_its_agent_nodes(system: System) -> None:
    result = system.graph_run("basic", "calculate 2 + 3")
    graph, child = system.get_run(result.run_id), system.get_run(f"{result.run_id}.1")
    assert child.total_tokens > 0
    assert (graph.input_tokens, graph.output_tokens) == (child.input_tokens, child.output_tokens)
