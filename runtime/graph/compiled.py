"""A validated, immutable graph: transitions, the run's output, and a Mermaid rendering."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from agentstage.runtime.graph.nodes import (
    END,
    AgentNode,
    BranchNode,
    HumanNode,
    MapNode,
    Node,
    ParallelNode,
    RouterNode,
    SetNode,
    ToolNode,
)

__all__ = ["CompiledGraph"]


@dataclass(frozen=True, eq=False)
class CompiledGraph:
    """Produced by `Graph.compile()`; safe to share between threads and runs."""

    name: str
    description: str
    nodes: Mapping[str, Node]
    entry: str
    edges: Mapping[str, str]
    max_steps: int | None = None

    def node(self, name: str) -> Node:
        return self.nodes[name]

    def runnable_nodes(self) -> Iterator[Node | BranchNode]:
        """Every node, and the branches inside parallel and map nodes (what needs tools and agents)."""
        for node in self.nodes.values():
            yield node
            if isinstance(node, ParallelNode):
                yield from node.branches
            elif isinstance(node, MapNode):
                yield node.node

    def successor(self, name: str) -> str | None:
        """The node after non-router `name`, or None when the run ends there."""
        target = self.edges.get(name)
        return None if target in (None, END) else target

    def output(self, state: Mapping[str, Any], last: str) -> str:
        """The run's answer: `state["output"]` when set, else what the last node wrote, as text."""
        node = self.nodes.get(last)
        value = state.get("output") if "output" in state else state.get(getattr(node, "key", last))
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)

    def mermaid(self) -> str:
        """The graph as a Mermaid flowchart (routers as diamonds, human steps as rounded boxes)."""
        ids = {name: f"n{index}" for index, name in enumerate(self.nodes)}
        lines = ["flowchart TD", "    start([start])", f"    start --> {ids[self.entry]}"]
        ended = False
        for name, node in self.nodes.items():
            lines.append(f"    {ids[name]}{_shape(node)}")
        for name, node in self.nodes.items():
            if isinstance(node, RouterNode):
                for label, target in node.routes.items():
                    lines.append(f"    {ids[name]} -- {_quote(label)} --> {ids.get(target, 'finish')}")
                    ended |= target == END
                lines.append(f"    {ids[name]} -. default .-> {ids.get(node.default or END, 'finish')}")
                ended |= node.default in (None, END)
            elif self.successor(name) is None:
                lines.append(f"    {ids[name]} --> finish")
                ended = True
            else:
                lines.append(f"    {ids[name]} --> {ids[self.edges[name]]}")
        if ended:
            lines.insert(2, "    finish([end])")
        return "\n".join(lines)

    def transitions(self) -> list[dict[str, str]]:
        """Every transition as drawn: from `start`, plain edges, router routes (their label) and router
        defaults (label `default`); `end` where the run ends."""
        def target(name: str | None) -> str:
            return "end" if name in (None, END) else name

        out = [{"from": "start", "to": self.entry, "label": ""}]
        for name, node in self.nodes.items():
            if isinstance(node, RouterNode):
                out += [{"from": name, "to": target(t), "label": label} for label, t in node.routes.items()]
                out.append({"from": name, "to": target(node.default), "label": "default"})
            else:
                out.append({"from": name, "to": target(self.successor(name)), "label": ""})
        return out

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary: nodes with their kind, edges, every transition, entry, max_steps."""
        return {
            "name": self.name, "description": self.description, "entry": self.entry, "max_steps": self.max_steps,
            "nodes": [{"name": n.name, "kind": n.kind} for n in self.nodes.values()],
            "edges": [{"from": s, "to": t} for s, t in self.edges.items()],
            "transitions": self.transitions(),
        }


def _quote(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def _shape(node: Node) -> str:
    if isinstance(node, RouterNode):
        return "{" + _quote(f"{node.name}: route") + "}"
    if isinstance(node, HumanNode):
        return "(" + _quote(f"{node.name}: wait for input") + ")"
    if isinstance(node, ToolNode):
        return "[" + _quote(f"{node.name}: tool {node.tool}") + "]"
    if isinstance(node, AgentNode):
        return "[" + _quote(f"{node.name}: agent {node.agent}") + "]"
    if isinstance(node, ParallelNode):
        names = ", ".join(b.name for b in node.branches)
        return "[[" + _quote(f"{node.name}: parallel {names}") + "]]"
    if isinstance(node, MapNode):
        return "[[" + _quote(f"{node.name}: map {node.node.kind} over {node.items}") + "]]"
    if isinstance(node, SetNode):
        return "[/" + _quote(f"{node.name}: set") + "/]"
    return "[" + _quote(node.name) + "]"
