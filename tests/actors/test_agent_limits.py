"""The agent's per-call settings: tool choice (forced until the first tool call), output cap, truncated answers."""

from __future__ import annotations

import pytest

from agentstage.runtime import AgentSpec, Config
from agentstage.runtime.llm.types import LLMResponse, Usage
from tests.actors.test_agent import QueueProvider, answer, call, start


def test_a_forced_choice_holds_until_the_first_tool_call_then_resets_to_auto(config: Config) -> None:
    provider = QueueProvider(answer("no tool yet"), call("calculator", expression="6*7"), answer("42"))
    with start(config, provider, tool_choice="required", max_output_tokens=64) as system:
        first = system.run("what is 6*7?")
        second = system.run("again", session=first.session_id)
    assert (first.status, second.output) == ("completed", "42")
    assert [r.tool_choice for r in provider.requests] == ["required", "required", "auto"]
    assert {r.max_output_tokens for r in provider.requests} == {64}


def test_defaults_leave_choice_and_cap_to_the_settings(config: Config) -> None:
    provider = QueueProvider(answer("hi"))
    with start(config, provider) as system:
        system.run("hello")
    assert (provider.requests[0].tool_choice, provider.requests[0].max_output_tokens) == ("auto", None)


def test_an_answer_cut_by_the_length_limit_completes_marked_truncated(config: Config) -> None:
    provider = QueueProvider(LLMResponse(content="The answer is", usage=Usage(5, 4), finish_reason="length"))
    with start(config, provider) as system:
        result = system.run("explain")
        stored = system.events(result.run_id)
    assert result.status == "completed" and result.output == "The answer is"
    warning = next(e for e in stored if e.type == "llm.truncated")
    assert warning.data["finish_reason"] == "length"
    assert stored[-1].type == "run.completed" and stored[-1].data["truncated"] is True


def test_a_complete_answer_is_not_marked_truncated(config: Config) -> None:
    with start(config, QueueProvider(answer("done"))) as system:
        result = system.run("hi")
    completed = result.events[-1]
    assert "truncated" not in completed.data and "llm.truncated" not in [e.type for e in result.events]


@pytest.mark.parametrize("changes", [{"tool_choice": "nope"}, {"tool_choice": "a b"}, {"max_output_tokens": 0}])
def test_spec_rejects_unknown_tool_choices_and_empty_caps(changes: dict) -> None:
    with pytest.raises(ValueError):
        AgentSpec(tools=("calculator",), **changes)


def test_a_tool_name_choice_is_accepted_with_bundles(config: Config) -> None:
    assert AgentSpec(tools=("@default",), tool_choice="calculator").tool_choice == "calculator"
    spec = AgentSpec.from_config(config.replace(tool_choice="none", max_output_tokens="256"))
    assert (spec.tool_choice, spec.max_output_tokens) == ("none", 256)


def test_a_configured_tool_name_does_not_bind_specs_without_that_tool(config: Config) -> None:
    named = config.replace(tool_choice="calculator")
    assert AgentSpec.from_config(named).tool_choice == "calculator"
    assert AgentSpec.from_config(named, name="other", tools=("current_time",)).tool_choice is None
    with pytest.raises(ValueError):
        AgentSpec.from_config(named, tools=("current_time",), tool_choice="calculator")
