"""Workflow JSON: marshmallow validation with paths, compile problems, and a lossless round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentstage.runtime.workflow import WorkflowFileError, dump_workflow, load_workflow, load_workflow_file

REVIEW = {
    "name": "review", "description": "draft, ask a human, publish", "entry": "draft", "max_steps": 8,
    "nodes": [
        {"name": "draft", "kind": "agent", "agent": "default", "prompt": "Draft: {input}", "output_key": "draft"},
        {"name": "approve", "kind": "human", "prompt": "Publish it?", "output_key": "verdict"},
        {"name": "decide", "kind": "router", "key": "verdict", "match": "contains",
         "routes": {"yes": "publish", "no": "draft"}, "default": "publish"},
        {"name": "publish", "kind": "tool", "tool": "text_stats", "args": {}, "args_from": {"text": "draft"}},
    ],
    "edges": [{"from": "draft", "to": "approve"}, {"from": "approve", "to": "decide"}],
}


def test_round_trip_keeps_the_document(tmp_path: Path) -> None:
    path = tmp_path / "review.json"
    path.write_text(json.dumps(REVIEW))
    graph = load_workflow_file(path)
    assert list(graph.nodes) == ["draft", "approve", "decide", "publish"] and graph.max_steps == 8
    dumped = dump_workflow(graph)
    assert dump_workflow(load_workflow(dumped)) == dumped
    assert dumped["nodes"][0] == REVIEW["nodes"][0] and dumped["nodes"][2] == REVIEW["nodes"][2]
    assert dumped["edges"] == REVIEW["edges"]


def test_every_schema_problem_is_listed_with_its_path() -> None:
    document = {
        "entry": "a", "max_steps": "ten", "surprise": 1,
        "nodes": [{"name": "a", "kind": "tool", "routes": {"x": "a"}},
                  {"name": "a", "kind": "teleport"},
                  {"name": "r", "kind": "router", "routes": {"x": "a"}}],
        "edges": [{"from": "a"}],
    }
    with pytest.raises(WorkflowFileError) as caught:
        load_workflow(document, "doc.json")
    assert sorted(caught.value.problems) == sorted([
        "name: Missing data for required field.",
        "max_steps: Not a valid integer.",
        "surprise: Unknown field.",
        "nodes[0].tool: required for tool nodes",
        "nodes[0].routes: not a field of tool nodes",
        "nodes[1].kind: Must be one of: agent, human, map, parallel, router, set, tool.",
        "nodes[1].name: duplicate node name 'a'",
        "nodes[2].default: required for router nodes",
        "edges[0].to: Missing data for required field.",
    ])


def test_graph_problems_follow_schema_validation() -> None:
    document = {"name": "g", "entry": "a", "nodes": [{"name": "a", "kind": "tool", "tool": "t"},
                                                     {"name": "b", "kind": "tool", "tool": "t"}],
                "edges": [{"from": "a", "to": "zz"}]}
    with pytest.raises(WorkflowFileError) as caught:
        load_workflow(document)
    assert caught.value.problems == ["graph: edge a -> zz: unknown node 'zz'"]


def test_file_errors_name_the_file_and_name_defaults_to_the_stem(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{nope")
    with pytest.raises(WorkflowFileError) as caught:
        load_workflow_file(tmp_path / "broken.json")
    assert caught.value.source.endswith("broken.json") and caught.value.problems[0].startswith("$: not JSON")
    document = {k: v for k, v in REVIEW.items() if k != "name"}
    (tmp_path / "my-flow.json").write_text(json.dumps(document))
    assert load_workflow_file(tmp_path / "my-flow.json").name == "my-flow"
    with pytest.raises(WorkflowFileError, match="must be a JSON object"):
        load_workflow([1, 2])


FAN = {
    "name": "fan", "entry": "split",
    "nodes": [
        {"name": "split", "kind": "agent", "prompt": "List the parts of: {input}", "output_key": "parts"},
        {"name": "each", "kind": "map", "items": "parts", "max_concurrency": 3, "output_key": "answers",
         "node": {"kind": "agent", "prompt": "Answer: {item}"}},
        {"name": "both", "kind": "parallel", "reducer": "concat",
         "branches": [{"name": "left", "kind": "agent"}, {"name": "right", "kind": "tool", "tool": "text_stats",
                                                          "args_from": {"text": "input"}}]},
    ],
    "edges": [{"from": "split", "to": "each"}, {"from": "each", "to": "both"}],
}


def test_parallel_and_map_nodes_round_trip() -> None:
    graph = load_workflow(FAN)
    dumped = dump_workflow(graph)
    assert dump_workflow(load_workflow(dumped)) == dumped
    each = dumped["nodes"][1]
    assert (each["items"], each["max_concurrency"], each["reducer"]) == ("parts", 3, "list")
    assert each["node"] == {"name": "each", "kind": "agent", "agent": "default", "prompt": "Answer: {item}"}
    assert [b["name"] for b in dumped["nodes"][2]["branches"]] == ["left", "right"]


def test_fan_out_problems_have_paths() -> None:
    bad = {"name": "bad", "entry": "p", "nodes": [
        {"name": "p", "kind": "parallel", "branches": [{"name": "h", "kind": "human"}], "reducer": "sum"},
        {"name": "m", "kind": "map", "node": {"kind": "router", "routes": {"a": "p"}, "default": "p"}}]}
    with pytest.raises(WorkflowFileError) as caught:
        load_workflow(bad)
    assert set(caught.value.problems) == {
        "nodes[0].branches[0].kind: a branch must be an agent or tool node",
        "nodes[0].reducer: Must be one of: list, dict, concat, merge.",
        "nodes[1].items: required for map nodes",
        "nodes[1].node.kind: a branch must be an agent or tool node",
    }


def test_set_nodes_write_literal_values_and_round_trip() -> None:
    document = {"name": "setter", "entry": "mark", "nodes": [
        {"name": "mark", "kind": "set", "values": {"stage": "triaged", "score": 3}},
        {"name": "route", "kind": "router", "key": "stage", "routes": {"triaged": "__end__"}, "default": "__end__"}],
        "edges": [{"from": "mark", "to": "route"}]}
    graph = load_workflow(document)
    assert graph.nodes["mark"].update({}, {}) == {"stage": "triaged", "score": 3}
    dumped = dump_workflow(graph)
    assert dumped["nodes"][0] == {"name": "mark", "kind": "set", "values": {"stage": "triaged", "score": 3}}
    assert dump_workflow(load_workflow(dumped)) == dumped
    with pytest.raises(WorkflowFileError) as caught:
        load_workflow({**document, "nodes": [{"name": "mark", "kind": "set", "prompt": "x"}], "edges": []})
    assert caught.value.problems == ["nodes[0].prompt: not a field of set nodes"]


def test_schema_messages_by_field_path() -> None:
    from agentstage.runtime.workflow.loader import field_messages, flatten_messages

    messages = {"nodes": {1: {"tool": ["required for tool nodes"], "_schema": ["bad node"]}}, "_schema": ["x", "y"]}
    assert field_messages(messages) == {"nodes[1].tool": ["required for tool nodes"], "nodes[1]": ["bad node"],
                                        "$": ["x", "y"]}
    assert flatten_messages(messages) == ["nodes[1].tool: required for tool nodes", "nodes[1]: bad node", "$: x",
                                          "$: y"]
