"""Static graph DSL: nodes, edges, validation into a `CompiledGraph`, Mermaid rendering."""

from agentstage.runtime.graph.builder import Graph, GraphError
from agentstage.runtime.graph.compiled import CompiledGraph
from agentstage.runtime.graph.nodes import END, AgentNode, HumanNode, Node, RouterNode, ToolNode, render
from agentstage.runtime.graph.result import GraphResult

__all__ = [
    "END",
    "AgentNode",
    "CompiledGraph",
    "Graph",
    "GraphError",
    "GraphResult",
    "HumanNode",
    "Node",
    "RouterNode",
    "ToolNode",
    "render",
]
