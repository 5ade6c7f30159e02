"""The built-in prompt-pattern workflows, run through a System with a provider that answers by prompt."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentstage.runtime import Config, System
from agentstage.runtime.llm.types import LLMRequest, LLMResponse, Provider


class ByPrompt(Provider):
    """Answers each prompt with the first matching canned answer (or an echo), and records the prompts."""

    name = "by-prompt"

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.prompts: list[str] = []

    def generate(self, request: LLMRequest) -> LLMResponse:
        prompt = request.messages[-1].content
        self.prompts.append(prompt)
        reply = next((a for start, a in self.answers.items() if prompt.startswith(start)), f"did: {prompt.splitlines()[-1]}")
        return LLMResponse(content=reply)


@pytest.fixture
def provider() -> ByPrompt:
    return ByPrompt({"Split this task": "first part\nsecond part\nthird part", "Answer with one word": "Code",
                     "Task: x\nCombine": "all combined"})


@pytest.fixture
def system(config: Config, provider: ByPrompt) -> Iterator[System]:
    with System(config, providers={"default": provider}) as started:
        yield started


def test_map_reduce_answers_every_subtask_as_its_own_child_run_then_combines(system: System,
                                                                             provider: ByPrompt) -> None:
    result = system.graph_run("map-reduce", "x")
    assert result.status == "completed" and result.trace == ("split", "map", "reduce")
    assert result.state["mapped_results"] == [f"did: Do this subtask: {n} part" for n in ("first", "second", "third")]
    assert result.state["final_output"] == "all combined"
    children = {run.run_id for run in system.list_runs(limit=20).items if run.parent_run_id == result.run_id}
    assert {f"{result.run_id}.2.{i}" for i in (1, 2, 3)} <= children
    combine = next(p for p in provider.prompts if p.startswith("Task: x\nCombine"))
    assert combine.endswith('["did: Do this subtask: first part", "did: Do this subtask: second part", '
                            '"did: Do this subtask: third part"]')


def test_router_hands_the_request_to_the_specialist_the_classifier_named(system: System) -> None:
    result = system.graph_run("router", "parse this csv")
    assert result.trace == ("classify", "route", "handle_code") and result.state["category"] == "Code"


def test_chain_feeds_each_step_what_the_last_wrote(system: System, provider: ByPrompt) -> None:
    result = system.graph_run("chain", "y")
    assert result.trace == ("analyze", "plan", "execute")
    assert "Task: y\nAnalysis: did: y\nWrite a short numbered plan." in provider.prompts


def test_summary_memory_reads_the_memory_given_in_state_and_writes_the_next_one(system: System,
                                                                              provider: ByPrompt) -> None:
    result = system.graph_run("summary-memory", "z", state={"memory": "the user likes tea"})
    assert result.trace == ("start", "draft", "summarize", "remember", "refine") and result.state["memory_summary"]
    assert provider.prompts[0] == "Memory of the conversation so far: the user likes tea\nAnswer: z"


def test_summary_memory_carries_the_summary_to_the_next_run_of_the_session_only(system: System,
                                                                             provider: ByPrompt) -> None:
    provider.answers["Summarize in at most 120 words"] = "the user is called Ada"
    first = system.graph_run("summary-memory", "my name is Ada", session="s1")
    assert first.trace == ("start", "recall", "draft", "summarize", "remember", "refine")
    assert provider.prompts[0] == "Memory of the conversation so far: \nAnswer: my name is Ada"
    provider.prompts.clear()
    system.graph_run("summary-memory", "what is my name?", session="s1")
    assert provider.prompts[0] == "Memory of the conversation so far: the user is called Ada\nAnswer: what is my name?"
    provider.prompts.clear()
    system.graph_run("summary-memory", "what is my name?", session="s2")
    assert provider.prompts[0] == "Memory of the conversation so far: \nAnswer: what is my name?"
