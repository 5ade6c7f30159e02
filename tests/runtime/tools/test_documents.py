"""search_documents: the model searches a document collection through a real System."""

from __future__ import annotations

from agentstage.runtime import AgentSpec, Config, System
from agentstage.runtime.llm.types import LLMResponse, ToolCall
from tests.queued_provider import QueuedProvider
from tests.runtime.retrieval.test_context import _retrieval
from tests.runtime.retrieval.test_store import CORPUS


def test_search_documents_answers_the_model_with_the_best_passages(config: Config) -> None:
    _retrieval(config).close()
    provider = QueuedProvider(LLMResponse(tool_calls=(ToolCall("c1", "search_documents", {
        "query": "which guardrails redact secrets", "collection": "kb", "k": 1}),)), LLMResponse(content="done"))
    agent = AgentSpec.from_config(config, tools=("search_documents",), pool_size=1)
    with System(config, agents=[agent], providers={"default": provider}) as system:
        assert system.run("look it up").status == "completed"
    tool_message = provider.requests[1].messages[-1]
    assert "guardrails.md" in tool_message.content and CORPUS["guardrails.md"] in tool_message.content


def test_an_unknown_collection_is_an_error_the_model_reads(config: Config) -> None:
    provider = QueuedProvider(LLMResponse(tool_calls=(ToolCall("c1", "search_documents", {
        "query": "x", "collection": "missing"}),)), LLMResponse(content="none"))
    agent = AgentSpec.from_config(config, tools=("search_documents",), pool_size=1)
    with System(config, agents=[agent], providers={"default": provider}) as system:
        assert system.run("look it up").status == "completed"
    assert "no document collection 'missing'" in provider.requests[1].messages[-1].content
