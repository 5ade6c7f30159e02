"""Bindings of workflows whose agent nodes use another agent: bound tools reach those nodes only."""

from agentstage.runtime import System
from agentstage.runtime.llm.types import LLMRequest, LLMResponse, Provider, ToolCall


class CallsHash(Provider):
    """Asks for hash_generator whether or not it is offered, then answers with what came back."""

    name = "calls-hash"

    def generate(self, request: LLMRequest) -> LLMResponse:
        last = request.messages[-1]
        if last.role == "tool":
            return LLMResponse(content=f"tool said: {last.content}")
        return LLMResponse(tool_calls=(ToolCall("c1", "hash_generator", {"input": "abc", "algorithm": "md5"}),))


def test_binding_reaches_the_agent_nodes_of_a_workflow_and_nothing_else(config) -> None:
    md5 = "900150983cd24fb0d6963f7d28e17f72"
    with System(config, providers={"default": CallsHash()}) as system:
        assert "not found" in system.graph_run("basic", "hello", timeout=60).output
        system.catalog.bind("basic", "@security")
        bound = system.graph_run("basic", "hello", timeout=60)
        assert md5 in bound.output
        assert "not found" in system.run("hello").output
        child = system.reader().connection.execute("SELECT agent FROM runs WHERE parent_run_id = ?",
                                                   (bound.run_id,)).fetchone()[0]
        assert child == "default@basic"
    with System(config, providers={"default": CallsHash()}) as system:
        assert md5 in system.graph_run("basic", "hello", timeout=60).output
        system.catalog.unbind("basic", "@security")
        assert "not found" in system.graph_run("basic", "hello", timeout=60).output
