"""Orchestration definitions: each pattern builds its graph, every problem is reported under its field's path,
and the workflow loader builds a definition like any workflow document."""

from __future__ import annotations

import pytest

from agentstage.runtime.graph.nodes import ParallelNode
from agentstage.runtime.workflow import dump_workflow, load_workflow
from agentstage.runtime.workflow.orchestrations import (
    PATTERNS,
    OrchestrationError,
    build_orchestration,
    is_orchestration_document,
    parse_orchestration,
)
from agentstage.runtime.workflow.patterns import consensus, debate, parallel, router, sequential, supervisor

AGENTS = {"alice", "bob", "judge"}


def problems(document: dict, agents: set[str] | None = None) -> dict[str, list[str]]:
    with pytest.raises(OrchestrationError) as raised:
        parse_orchestration(document, agents)
    return raised.value.errors


@pytest.mark.parametrize(("document", "expected"), [
    ({"pattern": "sequential", "agents": ["alice", "bob", "alice"]}, sequential("o", ["alice", "bob", "alice"])),
    ({"pattern": "parallel", "agents": ["alice", "bob"], "aggregator": "judge", "max_concurrency": 1},
     parallel("o", ["alice", "bob"], "judge", max_concurrency=1)),
    ({"pattern": "router", "classifier": "judge", "routes": {"billing": "alice"}, "default": "bob"},
     router("o", "judge", {"billing": "alice"}, "bob")),
    ({"pattern": "supervisor", "lead": "judge", "workers": ["alice", "bob"], "max_concurrency": 2},
     supervisor("o", "judge", ["alice", "bob"], max_concurrency=2)),
    ({"pattern": "debate", "agents": ["alice", "bob"], "judge": "judge", "rounds": 3},
     debate("o", ["alice", "bob"], "judge", 3)),
    ({"pattern": "consensus", "agents": ["alice", "bob"], "judge": "judge"}, consensus("o", ["alice", "bob"], "judge")),
])
def test_each_pattern_builds_the_graph_its_builder_gives(document, expected) -> None:
    orchestration = parse_orchestration({"name": "o", **document}, AGENTS)
    built = build_orchestration(orchestration)
    assert dump_workflow(built) == dump_workflow(expected.compile())
    assert orchestration.to_dict() == {"name": "o", "description": "", **document}
    assert set(document) - {"pattern"} <= set(PATTERNS[document["pattern"]].field_names)


def test_a_description_replaces_the_patterns_own() -> None:
    document = {"name": "o", "pattern": "sequential", "agents": ["alice"], "description": " relay "}
    assert build_orchestration(parse_orchestration(document)).description == "relay"
    assert build_orchestration(parse_orchestration({**document, "description": ""})).description.startswith(
        "sequential:")


def test_max_concurrency_bounds_every_fan_out_of_a_debate() -> None:
    graph = build_orchestration(parse_orchestration({"name": "o", "pattern": "debate", "agents": ["alice", "bob"],
                                                     "judge": "judge", "max_concurrency": 1}))
    fan_outs = [node for node in graph.nodes.values() if isinstance(node, ParallelNode)]
    assert len(fan_outs) == 2 and {node.max_concurrency for node in fan_outs} == {1}


def test_fields_are_checked_against_the_pattern() -> None:
    assert problems({"name": "o", "pattern": "parallel", "agents": ["alice"], "judge": "judge", "rounds": 2}) == {
        "judge": ["not a field of parallel orchestrations"], "rounds": ["not a field of parallel orchestrations"]}
    assert problems({"name": "o", "pattern": "router", "routes": {}}) == {
        "routes": ["Length must be between 1 and 32."], "classifier": ["required for router orchestrations"],
        "default": ["required for router orchestrations"]}
    assert problems({"name": "o", "pattern": "consensus", "agents": ["alice"], "judge": "bob"}) == {
        "agents": ["consensus orchestrations need at least 2 agents"]}
    assert problems({"pattern": "vote", "extra": 1}) == {
        "pattern": ["Must be one of: consensus, debate, parallel, router, sequential, supervisor."],
        "name": ["Missing data for required field."], "extra": ["Unknown field."]}


def test_rosters_name_each_agent_once_and_never_a_step() -> None:
    assert problems({"name": "o", "pattern": "supervisor", "lead": "judge", "workers": ["bob", "review", "bob"]}) == {
        "workers[1]": ["'review' is a step name of supervisor orchestrations; use an agent of another name"],
        "workers[2]": ["'bob' is listed twice; each agent takes part once"]}
    assert problems({"name": "o", "pattern": "debate", "agents": ["round", "bob"], "judge": "judge"}) == {
        "agents[0]": ["'round' is a step name of debate orchestrations; use an agent of another name"]}
    assert problems({"name": "o", "pattern": "consensus", "agents": ["answers"], "judge": "judge"}) == {
        "agents[0]": ["'answers' is a step name of consensus orchestrations; use an agent of another name"],
        "agents": ["consensus orchestrations need at least 2 agents"]}
    parse_orchestration({"name": "o", "pattern": "sequential", "agents": ["bob", "bob"]})


@pytest.mark.parametrize(("change", "path"), [
    ({"name": "-x"}, "name"), ({"name": "patterns"}, "name"), ({"name": "a" * 81}, "name"),
    ({"agents": ["alice", " bob"]}, "agents[1]"), ({"agents": ["alice", "{input}"]}, "agents[1]"),
    ({"agents": ["alice", 7]}, "agents[1]"), ({"judge": ""}, "judge"), ({"rounds": 11}, "rounds"),
    ({"rounds": True}, "rounds"), ({"max_concurrency": 0}, "max_concurrency"), ({"description": 3}, "description"),
])
def test_each_bad_value_is_reported_under_its_path(change, path) -> None:
    document = {"name": "o", "pattern": "debate", "agents": ["alice", "bob"], "judge": "judge", **change}
    assert path in problems(document)


def test_unknown_agents_are_named_by_field_with_the_other_problems() -> None:
    document = {"name": "o", "pattern": "router", "classifier": "ghost", "default": "bob",
                "routes": {"billing": "alice", "tech": "nobody"}}
    assert problems(document, AGENTS) == {"classifier": ["unknown agent 'ghost'"],
                                          "routes.tech": ["unknown agent 'nobody'"]}
    assert problems({**document, "routes": {" tech": "nobody"}}, AGENTS) == {
        "routes. tech": ["a route label: 1-80 characters, no braces, no spaces around it"],
        "classifier": ["unknown agent 'ghost'"]}
    parse_orchestration(document)


def test_the_workflow_loader_builds_a_definition_and_reports_its_paths() -> None:
    document = {"name": "o", "pattern": "parallel", "agents": ["alice", "bob"]}
    assert is_orchestration_document(document) and not is_orchestration_document({"entry": "a", "nodes": []})
    assert load_workflow(document).entry == "answers"
    with pytest.raises(OrchestrationError) as raised:
        load_workflow({**document, "agents": ["alice", "alice"]}, "o.json")
    assert raised.value.source == "o.json"
    assert raised.value.problems == ["agents[1]: 'alice' is listed twice; each agent takes part once"]
    with pytest.raises(OrchestrationError, match=r"\$: a definition must be a JSON object"):
        parse_orchestration(["alice"])
