"""Orchestration patterns as graphs of agents: each agent turn a child run, the state the shared memory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentstage.runtime import AgentSpec, Config, System
from agentstage.runtime.llm.types import LLMRequest, LLMResponse, Provider
from agentstage.runtime.workflow import dump_workflow, load_workflow
from agentstage.runtime.workflow.patterns import consensus, debate, parallel, router, sequential, supervisor

AGENTS = ("alice", "bob", "judge")


class Echo(Provider):
    """Answers `<agent> says: <last line of the prompt>`; the agent is told apart by its system prompt."""

    name = "echo"

    def __init__(self) -> None:
        self.prompts: list[tuple[str, str]] = []

    def generate(self, request: LLMRequest) -> LLMResponse:
        prompt = request.messages[-1].content
        self.prompts.append((request.system, prompt))
        if prompt.startswith("Answer with one word"):
            return LLMResponse(content="billing")
        return LLMResponse(content=f"{request.system} says: {prompt.splitlines()[-1]}")


@pytest.fixture
def provider() -> Echo:
    return Echo()


@pytest.fixture
def system(config: Config, provider: Echo) -> Iterator[System]:
    specs = [AgentSpec.from_config(config, name=name, system_prompt=name, pool_size=1)
             for name in AGENTS]
    with System(config, agents=specs, providers=dict.fromkeys(AGENTS, provider)) as started:
        yield started


def test_sequential_hands_each_result_to_the_next_agent(system: System) -> None:
    system.register_workflow("seq", sequential("seq", ["alice", "bob"]))
    result = system.graph_run("seq", "write a haiku")
    assert result.trace == ("1_alice", "2_bob")
    assert result.output == "bob says: Improve or continue it."
    assert result.state["1_alice"] == "alice says: Task: write a haiku"


def test_parallel_answers_at_once_and_the_aggregator_merges(system: System, provider: Echo) -> None:
    system.register_workflow("par", parallel("par", ["alice", "bob"], aggregator="judge"))
    result = system.graph_run("par", "pick a name")
    assert result.state["answers"] == {"alice": "alice says: pick a name", "bob": "bob says: pick a name"}
    merge = next(p for s, p in provider.prompts if s == "judge")
    assert '"alice": "alice says: pick a name"' in merge and result.output.startswith("judge says:")
    children = [r for r in system.list_runs(limit=10).items if r.parent_run_id == result.run_id]
    assert sorted(r.agent for r in children) == ["alice", "bob", "judge"]


def test_router_sends_the_task_to_the_agent_for_the_category(system: System) -> None:
    system.register_workflow("desk", router("desk", "judge", {"billing": "alice", "tech": "bob"}, "bob"))
    result = system.graph_run("desk", "my invoice is wrong")
    assert result.trace == ("classify", "route", "handle_alice") and result.output.startswith("alice says:")


def test_supervisor_plans_workers_work_at_once_lead_reviews(system: System) -> None:
    system.register_workflow("team", supervisor("team", "judge", ["alice", "bob"]))
    result = system.graph_run("team", "ship the release")
    assert result.trace == ("plan", "work", "review")
    assert set(result.state["work"]) == {"alice", "bob"} and result.output.startswith("judge says:")


def test_debate_rounds_see_the_last_round_and_the_judge_decides(system: System, provider: Echo) -> None:
    system.register_workflow("argue", debate("argue", ["alice", "bob"], "judge", rounds=2))
    result = system.graph_run("argue", "tabs or spaces?")
    assert result.trace == ("round_1", "round_2", "verdict")
    second = [p for s, p in provider.prompts if s != "judge" and "round 2 of 2" in p]
    assert len(second) == 2 and all("Arguments of round 1:" in p for p in second)
    with pytest.raises(ValueError):
        debate("x", ["alice"], "judge", rounds=0)


def test_consensus_asks_the_judge_about_substance(system: System, provider: Echo) -> None:
    system.register_workflow("agree", consensus("agree", ["alice", "bob"], "judge"))
    result = system.graph_run("agree", "is 7 prime?")
    judge = next(p for s, p in provider.prompts if s == "judge")
    assert "First line: 'consensus: yes' or 'consensus: no'" in judge and result.status == "completed"


def test_patterns_have_a_json_form() -> None:
    for graph in (sequential("a", ["x", "y"]), parallel("b", ["x", "y"], "z"), debate("c", ["x", "y"], "z")):
        compiled = graph.compile()
        assert dump_workflow(load_workflow(dump_workflow(compiled))) == dump_workflow(compiled)


def test_fan_outs_take_a_concurrency_bound() -> None:
    from agentstage.runtime.graph.nodes import ParallelNode

    for graph in (supervisor("s", "z", ["x", "y"], max_concurrency=1), consensus("c", ["x", "y"], "z",
                                                                                max_concurrency=1),
                  debate("d", ["x", "y"], "z", rounds=2, max_concurrency=1)):
        fan_outs = [node for node in graph.compile().nodes.values() if isinstance(node, ParallelNode)]
        assert fan_outs and {node.max_concurrency for node in fan_outs} == {1}, graph.name
