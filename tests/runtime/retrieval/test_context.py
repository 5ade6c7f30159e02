"""Retrieval in runs: the context middleware puts the top passages before the system prompt; a missing
collection is an event, never a failed run."""

from __future__ import annotations

from agentstage.runtime import AgentSpec, Config, System
from agentstage.runtime.llm.types import LLMResponse
from agentstage.runtime.retrieval import DocumentContext, HashEmbedder, Retrieval
from tests.queued_provider import QueuedProvider
from tests.runtime.retrieval.test_store import CORPUS


def _retrieval(config: Config) -> Retrieval:
    retrieval = Retrieval.from_config(config)
    retrieval.store().add_many("kb", CORPUS.items(), HashEmbedder())
    return retrieval


def test_context_middleware_puts_the_best_passages_before_the_system_prompt(config: Config) -> None:
    retrieval = _retrieval(config)
    provider = QueuedProvider(LLMResponse(content="they claim tasks"))
    agent = AgentSpec.from_config(config, system_prompt="Be brief.", pool_size=1,
                                  middleware=(DocumentContext(retrieval, "kb", k=2),))
    with System(config, agents=[agent], providers={"default": provider}) as system:
        result = system.run("how do workers claim tasks?")
        events = system.events(result.run_id)
    system_prompt = provider.requests[0].system
    assert system_prompt.startswith("Relevant context:\n[1] (workers.md, score ")
    assert CORPUS["workers.md"] in system_prompt and system_prompt.endswith("\n\nBe brief.")
    [context] = [e for e in events if e.type == "retrieval.context"]
    assert context.data["hits"][0]["source"] == "workers.md" and "text" not in context.data["hits"][0]
    retrieval.close()


def test_a_missing_collection_is_an_event_and_the_run_goes_on(config: Config) -> None:
    provider = QueuedProvider(LLMResponse(content="fine"))
    agent = AgentSpec.from_config(config, pool_size=1,
                                  middleware=(DocumentContext(Retrieval.from_config(config), "nope"),))
    with System(config, agents=[agent], providers={"default": provider}) as system:
        result = system.run("anything")
        events = system.events(result.run_id)
    assert result.status == "completed"
    [error] = [e for e in events if e.type == "retrieval.error"]
    assert "unknown collection: nope" in error.data["error"]

