"""Built-in workflows: `basic` (one agent), `triage` (a tool node, a router and two agent nodes) and
`secops` (Trivy reports or logs to the secops agent, see `runtime.secops.workflow`)."""

from __future__ import annotations

from agentstage.runtime.graph.builder import Graph
from agentstage.runtime.graph.nodes import AgentNode, RouterNode, ToolNode
from agentstage.runtime.workflow.registry import WorkflowRegistry

__all__ = ["basic", "default_registry", "triage"]


def basic() -> Graph:
    """One agent answers the input."""
    return Graph("basic", description="one agent answers the input").add(AgentNode("assistant")).entry("assistant")


def triage() -> Graph:
    """Measure the input (text_stats tool), then route arithmetic to a solver agent and the rest to a chat agent."""
    graph = Graph("triage", description="measure the input, route arithmetic to 'solve', the rest to 'chat'")
    graph.add(
        ToolNode("measure", "text_stats", args_from={"text": "input"}, output_key="stats"),
        RouterNode("route", key="input", match="contains",
                   routes={"calculate": "solve", "compute": "solve", "what is": "solve"}, default="chat"),
        AgentNode("solve", prompt="Solve this arithmetic: {input}", output_key="answer"),
        AgentNode("chat", prompt="{input}", output_key="answer"),
    )
    return graph.chain("measure", "route").entry("measure")


def _secops() -> Graph:
    # NOTE: imported on first use: the secops package imports the tools package, whose built-ins import
    # secops; importing it here at module level breaks `import agentstage.runtime.workflow` run first.
    from agentstage.runtime.secops.workflow import secops_graph

    return secops_graph()


def default_registry() -> WorkflowRegistry:
    """A new registry holding the built-in workflows."""
    registry = WorkflowRegistry()
    registry.register("basic", basic)
    registry.register("triage", triage)
    registry.register("secops", _secops)
    return registry
