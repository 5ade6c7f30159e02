"""Build a static graph in Python and compile it: every problem is reported in one `GraphError`.

    graph = Graph("triage", max_steps=20)
    graph.add(RouterNode("route", key="input", match="contains", routes={"calc": "solve"}, default="chat"),
              AgentNode("solve"), AgentNode("chat"))
    graph.entry("route")
    compiled = graph.compile()
"""

from __future__ import annotations

from collections.abc import Iterable

from agentstage.runtime.errors import AgentstageError
from agentstage.runtime.graph.compiled import CompiledGraph
from agentstage.runtime.graph.nodes import (
    END,
    REDUCERS,
    AgentNode,
    HumanNode,
    MapNode,
    Node,
    ParallelNode,
    RouterNode,
    SetNode,
    ToolNode,
)

__all__ = ["Graph", "GraphError"]

_KINDS = (AgentNode, ToolNode, RouterNode, HumanNode, ParallelNode, MapNode, SetNode)


class GraphError(AgentstageError):
    """A graph or workflow definition is invalid; `problems` lists every reason."""

    def __init__(self, name: str, problems: Iterable[str]) -> None:
        self.name = name
        self.problems = list(problems)
        super().__init__(f"graph {name!r} is invalid: " + "; ".join(self.problems))


class Graph:
    """A graph under construction: nodes, edges, an entry node; `compile()` validates it.

    A node without an outgoing edge ends the run; a router branches through its routes
    (and may route to `END`), every other node has at most one outgoing edge.
    """

    def __init__(self, name: str, *, description: str = "", max_steps: int | None = None) -> None:
        self.name = name
        self.description = description
        self.max_steps = max_steps
        self._nodes: dict[str, Node] = {}
        self._edges: list[tuple[str, str]] = []
        self._entry: str | None = None
        self._problems: list[str] = []

    def add(self, *nodes: Node) -> Graph:
        """Add nodes; a duplicate name is reported at compile time."""
        for node in nodes:
            if not isinstance(node, _KINDS):
                self._problems.append(f"{node!r} is not a node (AgentNode, ToolNode, RouterNode, HumanNode, "
                                     "ParallelNode, MapNode, SetNode)")
            elif node.name in self._nodes:
                self._problems.append(f"duplicate node name {node.name!r}")
            else:
                self._nodes[node.name] = node
        return self

    def edge(self, source: str, target: str) -> Graph:
        """Go from `source` to `target` after `source` completes (`target` may be END)."""
        self._edges.append((source, target))
        return self

    def chain(self, *names: str) -> Graph:
        """Edges between consecutive names: `chain("a", "b", "c")` is a -> b -> c."""
        for source, target in zip(names, names[1:]):
            self.edge(source, target)
        return self

    def entry(self, name: str) -> Graph:
        """The node a run starts at."""
        self._entry = name
        return self

    def compile(self) -> CompiledGraph:
        """Validate and freeze the graph; raises GraphError listing every problem."""
        problems = list(self._problems)
        nodes = self._nodes
        if not self.name or not self.name.strip():
            problems.append("the graph has no name")
        if not nodes:
            problems.append("the graph has no nodes")
        if self.max_steps is not None and (not isinstance(self.max_steps, int) or self.max_steps < 1):
            problems.append(f"max_steps must be a positive integer, got {self.max_steps!r}")
        for node in nodes.values():
            problems.extend(_node_problems(node, nodes))
        if self._entry is None:
            problems.append("no entry node")
        elif self._entry not in nodes:
            problems.append(f"entry node {self._entry!r} does not exist")
        edges: dict[str, str] = {}
        for source, target in self._edges:
            if source not in nodes:
                problems.append(f"edge {source} -> {target}: unknown node {source!r}")
            if target not in nodes and target != END:
                problems.append(f"edge {source} -> {target}: unknown node {target!r}")
            if isinstance(nodes.get(source), RouterNode):
                problems.append(f"edge {source} -> {target}: router {source!r} branches through its routes, not edges")
            elif source in edges and edges[source] != target:
                problems.append(f"node {source!r} has more than one outgoing edge ({edges[source]}, {target});"
                                " use a RouterNode to branch")
            elif source in nodes:
                edges[source] = target
        if not problems:
            problems.extend(_flow_problems(self._entry or "", nodes, edges, self.max_steps))
        if problems:
            raise GraphError(self.name, problems)
        return CompiledGraph(self.name, self.description, dict(nodes), self._entry or "", edges, self.max_steps)


def _node_problems(node: Node, nodes: dict[str, Node]) -> list[str]:
    problems = []
    if not node.name or node.name != node.name.strip() or node.name == END:
        problems.append(f"invalid node name {node.name!r}")
    if isinstance(node, ToolNode) and not node.tool:
        problems.append(f"tool node {node.name!r} names no tool")
    if isinstance(node, AgentNode) and not node.agent:
        problems.append(f"agent node {node.name!r} names no agent")
    if isinstance(node, RouterNode):
        if not node.routes:
            problems.append(f"router {node.name!r} has no routes")
        if not node.default:
            problems.append(f"router {node.name!r} has no default")
        if node.match not in ("equals", "contains"):
            problems.append(f"router {node.name!r}: match must be 'equals' or 'contains', got {node.match!r}")
        if node.func is None and not node.key:
            problems.append(f"router {node.name!r} needs a key or a func")
        for target in node.targets:
            if target not in nodes and target != END:
                problems.append(f"router {node.name!r} routes to unknown node {target!r}")
    if isinstance(node, (ParallelNode, MapNode)):
        problems.extend(_fan_out_problems(node, nodes))
    return problems


def _fan_out_problems(node: ParallelNode | MapNode, nodes: dict[str, Node]) -> list[str]:
    problems = []
    inner = node.branches if isinstance(node, ParallelNode) else (node.node,)
    if isinstance(node, ParallelNode) and not inner:
        problems.append(f"parallel node {node.name!r} has no branches")
    if isinstance(node, MapNode) and not node.items:
        problems.append(f"map node {node.name!r} names no state key for its items")
    if not callable(node.reducer) and node.reducer not in REDUCERS:
        problems.append(f"{node.kind} node {node.name!r}: reducer must be one of {', '.join(REDUCERS)}, "
                        f"got {node.reducer!r}")
    if node.max_concurrency is not None and (not isinstance(node.max_concurrency, int) or node.max_concurrency < 1):
        problems.append(f"{node.kind} node {node.name!r}: max_concurrency must be a positive integer")
    seen: set[str] = set()
    for branch in inner:
        if not isinstance(branch, (AgentNode, ToolNode)):
            problems.append(f"{node.kind} node {node.name!r}: a branch must be an agent or tool node, "
                            f"got {type(branch).__name__}")
            continue
        problems.extend(_node_problems(branch, nodes))
        if isinstance(node, ParallelNode) and (branch.name in nodes or branch.name in seen):
            problems.append(f"parallel node {node.name!r}: branch name {branch.name!r} is already used")
        seen.add(branch.name)
    return problems


def _successors(name: str, nodes: dict[str, Node], edges: dict[str, str]) -> tuple[str, ...]:
    node = nodes[name]
    if isinstance(node, RouterNode):
        return node.targets
    return (edges[name],) if name in edges else ()


def _flow_problems(entry: str, nodes: dict[str, Node], edges: dict[str, str], max_steps: int | None) -> list[str]:
    problems = []
    reachable = {entry}
    stack = [entry]
    while stack:
        for target in _successors(stack.pop(), nodes, edges):
            if target != END and target not in reachable:
                reachable.add(target)
                stack.append(target)
    unreachable = sorted(set(nodes) - reachable)
    if unreachable:
        problems.append("unreachable from the entry: " + ", ".join(unreachable))
    ends = {n for n in nodes if not _successors(n, nodes, edges) or END in _successors(n, nodes, edges)}
    finishing = set(ends)
    changed = True
    while changed:
        changed = False
        for name in nodes:
            if name not in finishing and any(t in finishing for t in _successors(name, nodes, edges)):
                finishing.add(name)
                changed = True
    stuck = sorted(set(nodes) - finishing)
    if stuck:
        problems.append("no path to an end from: " + ", ".join(stuck))
    cycle = _find_cycle(nodes, edges)
    if cycle and max_steps is None:
        problems.append(f"cycle {' -> '.join(cycle)} needs a bound: set max_steps")
    return problems


def _find_cycle(nodes: dict[str, Node], edges: dict[str, str]) -> list[str] | None:
    colour = dict.fromkeys(nodes, 0)
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        colour[name] = 1
        path.append(name)
        for target in _successors(name, nodes, edges):
            if target == END:
                continue
            if colour[target] == 1:
                return path[path.index(target):] + [target]
            if colour[target] == 0:
                found = visit(target)
                if found:
                    return found
        colour[name] = 2
        path.pop()
        return None

    for name in nodes:
        if colour[name] == 0:
            found = visit(name)
            if found:
                return found
    return None
