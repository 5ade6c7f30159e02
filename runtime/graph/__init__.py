"""Static graph DSL: nodes, edges, validation into a `CompiledGraph`, Mermaid rendering."""

from agentstage.runtime.lazy import lazy_exports as _lazy_exports

__getattr__ = _lazy_exports(__name__, {
    "Graph": "agentstage.runtime.graph.builder",
    "GraphError": "agentstage.runtime.graph.builder",
    "CompiledGraph": "agentstage.runtime.graph.compiled",
    "END": "agentstage.runtime.graph.nodes",
    "REDUCERS": "agentstage.runtime.graph.nodes",
    "AgentNode": "agentstage.runtime.graph.nodes",
    "HumanNode": "agentstage.runtime.graph.nodes",
    "MapNode": "agentstage.runtime.graph.nodes",
    "Node": "agentstage.runtime.graph.nodes",
    "ParallelNode": "agentstage.runtime.graph.nodes",
    "RouterNode": "agentstage.runtime.graph.nodes",
    "SetNode": "agentstage.runtime.graph.nodes",
    "ToolNode": "agentstage.runtime.graph.nodes",
    "render": "agentstage.runtime.graph.nodes",
    "GraphResult": "agentstage.runtime.graph.result",
})

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
    "SetNode",
    "ToolNode",
    "render",
]
