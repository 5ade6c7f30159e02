"""The reference DevUI's workflow format: translated into a graph that runs end to end on the scripted provider,
with the reference's templates, inputs, outputs and edge conditions; every problem is found when it loads,
with its path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentstage.runtime import System
from agentstage.runtime.workflow import WorkflowFileError, load_workflow, load_workflow_file
from agentstage.runtime.workflow.reference_format import (
    AGENT_INPUT,
    DEFAULT_MAX_STEPS,
    is_reference_document,
    load_reference_workflow,
    render_tokens,
)

POSTMAN = {"name": "workflow-from-postman", "description": "Example workflow creation",
           "start": "prepare",
           "nodes": [{"id": "prepare", "kind": "template", "template": "Handle: {{input}}", "outputKey": "prompt"},
                     {"id": "agent", "kind": "agent", "inputFrom": "prompt", "outputKey": "answer"},
                     {"id": "final", "kind": "output", "from": "data.answer"}],
           "edges": [{"from": "prepare", "to": "agent"}, {"from": "agent", "to": "final"}]}

TRIAGE = {"name": "triage-json", "start": "check",
          "nodes": [{"id": "check", "kind": "router_json_key", "checkKey": "urgent", "key": "urgency",
                     "existsValue": "high"},
                    {"id": "page", "kind": "set", "key": "output", "value": "paged on-call"},
                    {"id": "queue", "kind": "output", "template": "queued: {{ data.urgency }} / {{input}}"}],
          "edges": [{"from": "check", "to": "page", "when": {"key": "urgency", "equals": "high"}},
                    {"from": "check", "to": "queue"}]}


def problems(document: dict) -> list[str]:
    with pytest.raises(WorkflowFileError) as failed:
        load_reference_workflow(document)
    return failed.value.problems


def test_the_postman_example_translates_and_runs_end_to_end(system: System) -> None:
    graph = load_workflow(POSTMAN)
    assert [(n.name, n.kind) for n in graph.nodes.values()] == [
        ("prepare", "set"), ("agent.input", "set"), ("agent", "agent"), ("final", "set")]
    assert graph.entry == "prepare" and graph.description == "Example workflow creation"
    system.register_workflow(graph.name, graph)
    done = system.graph_run(graph.name, "what is 6 * 7", timeout=60)
    assert done.status == "completed", done.error
    assert done.state["prompt"] == "Handle: what is 6 * 7" and done.state[AGENT_INPUT] == "Handle: what is 6 * 7"
    assert "42" in done.state["answer"] and done.output == done.state["answer"].strip()


@pytest.mark.parametrize(("given", "output"), [('{"urgent": true}', "paged on-call"),
                                               ('{"calm": 1}', 'queued: false / {"calm": 1}'),
                                               ("not json", "queued: false / not json")])
def test_router_json_key_and_conditional_edges_route_as_in_the_reference(system, given, output) -> None:
    graph = load_workflow(TRIAGE)
    assert "check.next" in graph.nodes and graph.nodes["check.next"].kind == "router"
    system.register_workflow(graph.name, graph, replace=True)
    done = system.graph_run(graph.name, given, timeout=30)
    assert (done.status, done.output) == ("completed", output)


def test_a_node_whose_conditions_all_fail_ends_the_run_there(system) -> None:
    document = {"name": "stops", "start": "a",
                "nodes": [{"id": "a", "kind": "set", "key": "route", "value": "left"},
                          {"id": "b", "kind": "output", "value": "took b"}],
                "edges": [{"from": "a", "to": "b", "when": {"key": "route", "equals": "right"}}]}
    system.register_workflow("stops", load_workflow(document))
    done = system.graph_run("stops", "x", timeout=30)
    assert done.status == "completed" and done.state["route"] == "left" and "b" not in done.state.get("output", "")


def test_templates_resolve_tokens_like_the_reference() -> None:
    state = {"input": "in", "output": "out", "n": 3, "flag": True, "obj": {"b": 1, "a": [1, "x"]}, "none": None}
    run = {"run_id": "r1", "session_id": "s1"}
    template = "{{input}}|{{ output }}|{{runId}}|{{sessionId}}|{{data.n}}|{{flag}}|{{obj}}|{{none}}|{{missing}}"
    assert render_tokens(template, state, run) == 'in|out|r1|s1|3|true|{"a":[1,"x"],"b":1}||'


def test_an_agent_takes_its_input_in_the_reference_order() -> None:
    def agent_input(**fields) -> object:
        document = {"name": "a", "start": "ask", "nodes": [{"id": "ask", "kind": "agent", **fields}]}
        graph = load_workflow(document)
        return graph.nodes.get("ask.input"), graph.nodes["ask"]

    step, agent = agent_input(inputFrom="q", template="T {{input}}", value={"v": 1}, outputKey="")
    run = {"run_id": "r", "session_id": "s"}
    assert step.update({"input": "I", "q": 7}, run) == {AGENT_INPUT: "7"}
    assert step.update({"input": "I"}, run) == {AGENT_INPUT: "T I"}
    assert agent.prompt == "{" + AGENT_INPUT + "}" and agent.output_key == "agent_output"
    step, _ = agent_input(value={"v": 1})
    assert step.update({"input": "I"}, run) == {AGENT_INPUT: '{"v":1}'}
    step, agent = agent_input(agent="default")
    assert step is None and agent.prompt == "{input}"


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["nodes"][1].update(kind="python"), "nodes[1].kind: unsupported node kind 'python'"),
    (lambda d: d["nodes"][0].pop("outputKey"), "nodes[0].outputKey: required for template nodes"),
    (lambda d: d["nodes"][2].update(id="prepare"), "nodes[2].id: duplicate node id 'prepare' (also nodes[0])"),
    (lambda d: d["edges"].append({"from": "final", "to": "nowhere"}), "edges[2].to: unknown node 'nowhere'"),
    (lambda d: d.update(start="missing"), "start: unknown node 'missing'"),
    (lambda d: d["edges"].append({"from": "prepare", "to": "final"}),
     "edges[2]: never taken: edges[0] from 'prepare' has no condition and comes first"),
    (lambda d: d["edges"].append({"from": "final", "to": "prepare"}),
     "graph: cycle prepare -> agent.input -> agent -> final -> prepare is not allowed: set allowCycles"),
    (lambda d: d["edges"][0].update(when={"key": "runId", "equals": "x"}), "edges[0].when.key: runId cannot be"),
    (lambda d: d["nodes"][0].update(outputkey="typo"), "nodes[0].outputkey: Unknown field."),
    (lambda d: d.update(nodes=[]), "nodes: Shorter than minimum length 1."),
    (lambda d: d.update(name="../../etc/x"), "name: use 1-80 letters"),
])
def test_every_problem_is_found_at_load_time_with_its_path(change, expected) -> None:
    document = json.loads(json.dumps(POSTMAN))
    change(document)
    found = problems(document)
    assert any(p.startswith(expected) for p in found), found


def test_allow_cycles_bounds_the_run_and_edges_keep_their_order() -> None:
    document = {"name": "loop", "start": "a", "allowCycles": True,
                "nodes": [{"id": "a", "kind": "noop"}, {"id": "b", "kind": "noop"}],
                "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "a", "when": {"key": "again", "equals": "y"}}]}
    graph = load_workflow(document)
    assert graph.max_steps == DEFAULT_MAX_STEPS
    assert load_workflow({**document, "maxSteps": 7}).max_steps == 7
    router = graph.nodes["b.next"]
    assert router.choose({"again": "y"}) == ("again == y", "a") and router.choose({})[1] == "__end__"


def test_a_persisted_reference_file_loads_by_the_file_loader(tmp_path: Path) -> None:
    path = tmp_path / "from-file.json"
    path.write_text(json.dumps({k: v for k, v in POSTMAN.items() if k != "name"}))
    graph = load_workflow_file(path)
    assert graph.name == "from-file" and "agent.input" in graph.nodes
    assert is_reference_document(POSTMAN) and not is_reference_document({"entry": "a", "nodes": []})
