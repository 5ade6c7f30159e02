"""Static graph DSL: nodes, edges, validation into a `CompiledGraph`, Mermaid rendering."""

from agentstage.runtime.graph.builder import Graph, GraphError
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
    ToolNode,
    render,
)
from agentstage.runtime.graph.result import GraphResult

__all__ = [
    "END",
    "REDUCERS",
    "AgentNode",
    "CompiledGraph",
    "Graph",
    "GraphError",
    "GraphResult",
    "HumanNode",
    "MapNode",
    "Node",
    "ParallelNode",
    "RouterNode",
    "ToolNode",
    "render",
]
