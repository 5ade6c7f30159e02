"""Built-in workflows: `basic` (one agent), `triage` (a tool node, a router and two agent nodes), `ask`
(a human node, then a tool node) and `secops` (Trivy reports or logs to the secops agent, see
`runtime.secops.workflow`)."""

from __future__ import annotations

from agentstage.runtime.graph.builder import Graph
from agentstage.runtime.graph.nodes import AgentNode, HumanNode, RouterNode, ToolNode
from agentstage.runtime.workflow.registry import WorkflowRegistry

__all__ = ["ask", "basic", "default_registry", "triage"]


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


def ask() -> Graph:
    """Wait for a person to give an arithmetic expression, then solve it with the calculator tool."""
    graph = Graph("ask", description="wait for an expression from a person (graph-resume --input), then calculate it")
    graph.add(HumanNode("ask", prompt="which expression should I calculate?", output_key="expression"),
              ToolNode("solve", "calculator", args_from={"expression": "expression"}, output_key="answer"))
    return graph.chain("ask", "solve").entry("ask")


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
    registry.register("ask", ask)
    registry.register("secops", _secops)
    return registry
