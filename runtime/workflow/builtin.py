"""Built-in workflows: `basic` (one agent), `triage` (a tool node, a router and two agent nodes), `ask`
(a human node, then a tool node), the prompt patterns `chain`, `map-reduce` (a real fan-out), `router`
and `summary-memory`. The `secops` app registers its own workflow (`runtime.secops.workflow.register_app`)."""

from __future__ import annotations

from agentstage.runtime.graph.builder import Graph
from agentstage.runtime.graph.nodes import AgentNode, HumanNode, MapNode, RouterNode, ToolNode
from agentstage.runtime.workflow.registry import WorkflowRegistry

__all__ = ["SUMMARY_MEMORY_KEY", "ask", "basic", "chain", "default_registry", "map_reduce", "router", "summary_memory",
           "triage"]

ROUTER_CATEGORIES = ("code", "data", "writing", "ops")


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


def chain() -> Graph:
    """Analyze the task, plan it, then carry the plan out: each agent reads what the one before wrote."""
    graph = Graph("chain", description="analyze -> plan -> execute, each step reading the last")
    graph.add(AgentNode("analyze", prompt="Analyze this task; list what it needs and any risks:\n{input}",
                        output_key="analysis"),
              AgentNode("plan", prompt="Task: {input}\nAnalysis: {analysis}\nWrite a short numbered plan.",
                        output_key="plan"),
              AgentNode("execute", prompt="Task: {input}\nPlan: {plan}\nCarry out the plan; give the result.",
                        output_key="execution"))
    return graph.chain("analyze", "plan", "execute").entry("analyze")


def map_reduce() -> Graph:
    """Split the task into subtasks, answer every subtask at once (up to 4 in parallel), combine the answers."""
    graph = Graph("map-reduce", description="split into subtasks, answer them in parallel, combine the answers")
    graph.add(AgentNode("split", prompt="Split this task into independent subtasks, one per line, nothing else:"
                                        "\n{input}", output_key="subtasks"),
              MapNode("map", items="subtasks", max_concurrency=4, output_key="mapped_results",
                      node=AgentNode("map", prompt="Overall task: {input}\nDo this subtask: {item}")),
              AgentNode("reduce", prompt="Task: {input}\nCombine these subtask results into one answer: "
                                         "{mapped_results}", output_key="final_output"))
    return graph.chain("split", "map", "reduce").entry("split")


def router() -> Graph:
    """Classify the input as code, data, writing or ops (anything else: general) and hand it to that specialist."""
    graph = Graph("router", description="classify as code/data/writing/ops/general, then a specialist answers")
    handlers = {category: f"handle_{category}" for category in (*ROUTER_CATEGORIES, "general")}
    graph.add(AgentNode("classify", prompt="Answer with one word, the category of this request (code, data, "
                                           "writing, ops or general):\n{input}", output_key="category"),
              RouterNode("route", key="category", match="contains",
                         routes={c: handlers[c] for c in ROUTER_CATEGORIES}, default=handlers["general"]),
              *(AgentNode(name, prompt=f"As a {category} specialist, answer:\n{{input}}", output_key="handler_output")
                for category, name in handlers.items()))
    return graph.chain("classify", "route").entry("classify")


SUMMARY_MEMORY_KEY = "summary-memory"
"""The `memory_store` key under which `summary-memory` keeps a session's running summary."""


def summary_memory() -> Graph:
    """Draft an answer with the session's memory, summarize it as the next memory (kept in the session's
    `memory_store`, so the next run of the session starts from it), refine the draft.

    A `memory` given in the initial state is used instead of the stored one.
    """
    graph = Graph("summary-memory", description="draft with the session's memory, summarize it as the next "
                                                "memory, refine the draft")
    memory = "{memory}{recalled.value}"
    graph.add(RouterNode("start", routes={"given": "draft", "recall": "recall"}, default="recall",
                         func=lambda state: "given" if state.get("memory") else "recall"),
              ToolNode("recall", "memory_store", args={"operation": "get", "key": SUMMARY_MEMORY_KEY},
                       output_key="recalled"),
              AgentNode("draft", prompt=f"Memory of the conversation so far: {memory}\nAnswer: {{input}}",
                        output_key="draft_output"),
              AgentNode("summarize", prompt="Summarize in at most 120 words what the next turn must remember:\n"
                                            f"{memory}\n{{input}}\n{{draft_output}}", output_key="memory_summary"),
              ToolNode("remember", "memory_store", args={"operation": "set", "key": SUMMARY_MEMORY_KEY},
                       args_from={"value": "memory_summary"}, output_key="remembered"),
              AgentNode("refine", prompt="Improve this answer to '{input}' without changing its meaning:\n"
                                         "{draft_output}", output_key="refined_output"))
    return graph.chain("recall", "draft", "summarize", "remember", "refine").entry("start")


def default_registry() -> WorkflowRegistry:
    """A new registry holding the built-in workflows."""
    registry = WorkflowRegistry()
    registry.register("basic", basic)
    registry.register("triage", triage)
    registry.register("ask", ask)
    registry.register("chain", chain)
    registry.register("map-reduce", map_reduce)
    registry.register("router", router)
    registry.register("summary-memory", summary_memory)
    return registry
