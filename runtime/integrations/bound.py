"""Workflow tool bindings at run time: a bound workflow's agent nodes run on agents whose selection
includes the binding, so bound tools are offered and nothing else can be called.

For workflow `W` with a binding and an agent node using agent `X` (other than an agent named `W`,
which takes W's binding directly), an agent `X@W` is started with X's spec and the merged
selection, and W is re-registered with its agent nodes pointing at `X@W`. Removing the binding
restores the workflow as it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from agentstage.runtime._log import logger
from agentstage.runtime.agents import AgentSpec
from agentstage.runtime.errors import AgentstageError
from agentstage.runtime.graph.compiled import CompiledGraph
from agentstage.runtime.graph.nodes import AgentNode
from agentstage.runtime.integrations.catalog import ToolCatalog
from agentstage.runtime.workflow.registry import WorkflowRegistry

__all__ = ["BoundWorkflows", "bound_agent"]


def bound_agent(agent: str, workflow: str) -> str:
    """The name of agent `agent` serving bound workflow `workflow`."""
    return f"{agent}@{workflow}"


class BoundWorkflows:
    """Keeps a System's workflows and agent pools in line with the catalog's bindings.

    Args:
        catalog: where bindings are stored.
        workflows: the System's workflow registry.
        spec: the agent spec by name (None when unknown).
        start_agent: starts (or restarts) a pool for `spec`, with the provider of agent `base`.
    """

    def __init__(self, catalog: ToolCatalog, workflows: WorkflowRegistry, spec: Callable[[str], AgentSpec | None],
                 start_agent: Callable[[AgentSpec, str], None]) -> None:
        self.catalog = catalog
        self.workflows = workflows
        self.spec = spec
        self.start_agent = start_agent
        self._originals: dict[str, CompiledGraph] = {}

    def apply_all(self) -> None:
        for binding in self.catalog.bindings():
            self.apply(binding["workflow"])

    def apply(self, workflow: str) -> None:
        """Bring `workflow` in line with its binding; a workflow that is not registered is left alone."""
        try:
            original = self._originals.get(workflow) or self.workflows.get(workflow)
        except AgentstageError:
            return
        tools = self.catalog.binding(workflow).tools
        agents = sorted({n.agent for n in original.nodes.values() if isinstance(n, AgentNode) and n.agent != workflow})
        if not tools or not agents:
            restored = self._originals.pop(workflow, None)
            if restored is not None:
                self.workflows.register(workflow, restored, replace=True)
            return
        self._originals.setdefault(workflow, original)
        served = set()
        for agent in agents:
            spec = self.spec(agent)
            if spec is None:
                logger.warning("workflow {} uses unknown agent {}; its binding does not apply there", workflow, agent)
                continue
            selection = tuple(self.catalog.selection_for(workflow, spec.tools))
            self.start_agent(dataclasses.replace(spec, name=bound_agent(agent, workflow), tools=selection), agent)
            served.add(agent)
        nodes = {name: dataclasses.replace(node, agent=bound_agent(node.agent, workflow))
                 if isinstance(node, AgentNode) and node.agent in served else node
                 for name, node in original.nodes.items()}
        self.workflows.register(workflow, dataclasses.replace(original, nodes=nodes), replace=True)
