"""Agents calling agents through a real System: delegation returns the callee's answer to the caller,
a handoff ends the run with it; the callee is a child run with its own session, its tokens rolled up."""

from __future__ import annotations

import pytest

from agentstage.runtime import AgentSpec, Config, System
from agentstage.runtime.errors import ConfigError
from agentstage.runtime.llm.types import LLMResponse, Provider, ToolCall, Usage
from tests.queued_provider import QueuedProvider


def ask(tool: str, task: str) -> LLMResponse:
    return LLMResponse(tool_calls=(ToolCall("c1", tool, {"task": task}),), usage=Usage(10, 2))


def start(config: Config, alice: Provider, bob: Provider, **alice_spec: object) -> System:
    agents = [AgentSpec.from_config(config, name="alice", pool_size=1, **alice_spec),
              AgentSpec.from_config(config, name="bob", pool_size=1)]
    return System(config, agents=agents, providers={"alice": alice, "bob": bob})


def test_delegation_returns_the_callees_answer_and_links_the_child_run(config: Config) -> None:
    alice = QueuedProvider(ask("ask_bob", "what is 2 + 2?"), LLMResponse(content="bob says 4", usage=Usage(20, 3)))
    bob = QueuedProvider(LLMResponse(content="4", usage=Usage(5, 1)))
    with start(config, alice, bob, delegates=("bob",)) as system:
        result = system.run("ask bob", agent="alice")
        [child] = [r for r in system.list_runs(limit=10).items if r.parent_run_id == result.run_id]
        parent = system.get_run(result.run_id)
    assert (result.status, result.output) == ("completed", "bob says 4")
    assert bob.requests[0].messages[-1].content == "what is 2 + 2?"
    tool_message = alice.requests[1].messages[-1]
    assert tool_message.name == "ask_bob" and '"answer": "4"' in tool_message.content
    assert (child.agent, child.status, child.output) == ("bob", "completed", "4")
    assert child.session_id != result.session_id and child.run_id.startswith(f"{result.run_id}.bob.")
    assert (parent.input_tokens, parent.output_tokens) == (10 + 20 + 5, 2 + 3 + 1), "the child's tokens roll up"


def test_a_handoff_ends_the_run_with_the_other_agents_answer(config: Config) -> None:
    alice = QueuedProvider(ask("transfer_to_bob", "the customer wants a refund"))
    bob = QueuedProvider(LLMResponse(content="Refund issued."))
    with start(config, alice, bob, handoffs=("bob",)) as system:
        result = system.run("I want my money back", agent="alice")
        events = system.events(result.run_id)
    assert (result.status, result.output) == ("completed", "Refund issued.")
    assert len(alice.requests) == 1, "no model turn after the handoff"
    answer = [e for e in events if e.type == "llm.response"][-1]
    assert answer.data["finish_reason"] == "handoff" and answer.data["model"] == "handoff:bob"


def test_a_failed_callee_is_a_tool_error_the_caller_reads(config: Config) -> None:
    alice = QueuedProvider(ask("ask_bob", "x"), LLMResponse(content="bob could not"))
    bob = QueuedProvider()
    with start(config, alice, bob, delegates=("bob",)) as system:
        result = system.run("go", agent="alice")
    assert result.output == "bob could not"
    assert "agent bob failed" in alice.requests[1].messages[-1].content


def test_an_unknown_callee_is_a_config_error_at_start(config: Config) -> None:
    system = start(config, QueuedProvider(), QueuedProvider(), delegates=("carol",))
    with pytest.raises(ConfigError, match="names an unknown agent"):
        system.start()
    system.stop()
