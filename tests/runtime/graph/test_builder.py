"""Graph DSL: compile() reports every problem at once; valid graphs transition deterministically."""

from __future__ import annotations

import pytest

from agentstage.runtime.graph import END, AgentNode, Graph, GraphError, HumanNode, RouterNode, ToolNode


def problems(graph: Graph) -> list[str]:
    with pytest.raises(GraphError) as caught:
        graph.compile()
    return caught.value.problems


def test_compile_lists_every_problem_in_one_error() -> None:
    graph = Graph("broken")
    graph.add(ToolNode("a", "calculator"), ToolNode("a", "calculator"), ToolNode("b", "calculator"),
              RouterNode("r", routes={}, default=None), ToolNode("orphan", "calculator"))
    graph.edge("a", "ghost").edge("nowhere", "b").entry("a")
    found = problems(graph)
    assert "duplicate node name 'a'" in found
    assert "router 'r' has no routes" in found
    assert "router 'r' has no default" in found
    assert "edge a -> ghost: unknown node 'ghost'" in found
    assert "edge nowhere -> b: unknown node 'nowhere'" in found
    assert len(found) == 5


def test_unreachable_nodes_are_named() -> None:
    graph = Graph("g").add(ToolNode("a", "t"), ToolNode("b", "t"), ToolNode("c", "t")).chain("b", "c").entry("a")
    assert problems(graph) == ["unreachable from the entry: b, c"]


def test_cycle_without_max_steps_is_refused_and_with_it_compiles() -> None:
    def looping(max_steps: int | None) -> Graph:
        graph = Graph("loop", max_steps=max_steps)
        graph.add(ToolNode("work", "t"), RouterNode("check", key="done", routes={"yes": END}, default="work"))
        return graph.chain("work", "check").entry("work")

    assert problems(looping(None)) == ["cycle work -> check -> work needs a bound: set max_steps"]
    assert looping(5).compile().max_steps == 5


def test_a_cycle_with_no_way_out_has_no_path_to_an_end() -> None:
    graph = Graph("stuck", max_steps=10).add(ToolNode("a", "t"), ToolNode("b", "t")).chain("a", "b", "a").entry("a")
    assert problems(graph) == ["no path to an end from: a, b"]


def test_entry_and_branching_rules() -> None:
    assert "no entry node" in problems(Graph("g").add(ToolNode("a", "t")))
    graph = Graph("g").add(ToolNode("a", "t"), ToolNode("b", "t"), ToolNode("c", "t"),
                           RouterNode("r", routes={"x": "b"}, default="c"))
    graph.edge("a", "b").edge("a", "c").edge("r", "b").entry("a")
    found = problems(graph)
    assert any("more than one outgoing edge" in p for p in found)
    assert any("router 'r' branches through its routes" in p for p in found)
    assert problems(Graph("g", max_steps=0).add(ToolNode("a", "t")).entry("a")) == [
        "max_steps must be a positive integer, got 0"]


def test_router_rules_are_deterministic() -> None:
    router = RouterNode("r", routes={"code": "coder", "data": "analyst"}, default="general", key="category")
    assert router.choose({"category": "code"}) == ("code", "coder")
    assert router.choose({"category": "Code"}) == ("Code", "general")
    assert router.choose({}) == ("", "general")
    contains = RouterNode("r", routes={"code": "coder", "data": "analyst"}, default="general", key="category",
                          match="contains")
    assert contains.choose({"category": "A DATA question about code"}) == ("A DATA question about code", "coder")
    by_function = RouterNode("r", routes={"big": "x"}, default="y", func=lambda s: "big" if s["n"] > 3 else "small")
    assert by_function.choose({"n": 5}) == ("big", "x") and by_function.choose({"n": 1}) == ("small", "y")


def test_compiled_graph_transitions_and_output() -> None:
    graph = Graph("g").add(AgentNode("ask", output_key="answer"), HumanNode("approve"), ToolNode("t", "x"))
    compiled = graph.chain("ask", "approve", "t").entry("ask").compile()
    assert compiled.successor("ask") == "approve" and compiled.successor("t") is None
    assert compiled.output({"answer": "42", "t": {"a": 1}}, "t") == '{"a": 1}'
    assert compiled.output({"output": "final", "t": 1}, "t") == "final"


def test_mermaid_draws_nodes_routes_and_ends() -> None:
    graph = Graph("g").add(ToolNode("measure", "text_stats"),
                           RouterNode("route", key="input", routes={"calc": "solve"}, default=END),
                           AgentNode("solve"))
    text = graph.chain("measure", "route").entry("measure").compile().mermaid()
    assert text.splitlines()[0] == "flowchart TD"
    assert 'n0["measure: tool text_stats"]' in text and 'n1{"route: route"}' in text
    assert 'n1 -- "calc" --> n2' in text and "n1 -. default .-> finish" in text and "n2 --> finish" in text


def test_parallel_and_map_nodes_are_checked_like_nodes() -> None:
    from agentstage.runtime.graph import MapNode, ParallelNode

    graph = Graph("fan")
    graph.add(ParallelNode("p", branches=(ToolNode("a", ""), HumanNode("h"), ToolNode("p", "calculator")),
                           reducer="sum", max_concurrency=0),
              MapNode("m", items="", node=RouterNode("r", routes={"x": "p"}, default="p")),
              ParallelNode("empty"))
    graph.chain("p", "m", "empty").entry("p")
    found = problems(graph)
    assert "tool node 'a' names no tool" in found
    assert "parallel node 'p': a branch must be an agent or tool node, got HumanNode" in found
    assert "parallel node 'p': branch name 'p' is already used" in found
    assert "parallel node 'p': reducer must be one of list, dict, concat, merge, got 'sum'" in found
    assert "parallel node 'p': max_concurrency must be a positive integer" in found
    assert "map node 'm' names no state key for its items" in found
    assert "map node 'm': a branch must be an agent or tool node, got RouterNode" in found
    assert "parallel node 'empty' has no branches" in found
