"""The graph half of the `System` facade: workflows, graph runs, resume, fork.

    with System(config) as system:
        result = system.graph_run("triage", "calculate 6 * 7")
        system.graph_fork(result.run_id, step=1, state_patch={"input": "hello"})
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentstage.runtime.errors import NotApplicable
from agentstage.runtime.graph.compiled import CompiledGraph
from agentstage.runtime.graph.result import GraphResult
from agentstage.runtime.system.graph_runs import GraphHandle, GraphRuns, workflow_dir
from agentstage.runtime.workflow.builtin import default_registry
from agentstage.runtime.workflow.registry import GraphSource, WorkflowRegistry

__all__ = ["NOT_EXECUTING", "GraphMethods"]

NOT_EXECUTING = ("this System runs nothing itself (queued mode: its runs execute on the workers); "
                 "start runs through its RunControl")


class GraphMethods:
    """Mixed into `System`; `graphs` is the running `GraphRuns` while the System runs."""

    config: Any
    store: Any
    tools: Any
    journal: Any
    reader: Any
    running: bool
    executes: bool
    _pools: dict[str, Any]
    _is_cancelled: Any

    def _init_graphs(self) -> None:
        self.workflows: WorkflowRegistry = default_registry()
        self.graphs: GraphRuns | None = None

    def _start_graphs(self) -> None:
        self.workflows.load_dir(workflow_dir(self.config))
        if not self.executes:
            return
        self.graphs = GraphRuns(self.config, self.store, self.reader, self.tools, self.journal, self._pools.get,
                                self.workflows, self._is_cancelled, self.io)

    def _stop_graphs(self, timeout: float) -> None:
        graphs, self.graphs = self.graphs, None
        if graphs is not None:
            graphs.stop(timeout)

    def _running_graphs(self) -> GraphRuns:
        if self.graphs is None and self.running and not self.executes:
            raise NotApplicable("graph run", NOT_EXECUTING)
        if self.graphs is None:
            raise RuntimeError("System is not started; use it as a context manager or call start()")
        return self.graphs

    def register_workflow(self, name: str, graph_or_builder: GraphSource, *, replace: bool = False) -> None:
        """Register a workflow (Graph, CompiledGraph or builder) under `name`; raises GraphError."""
        self.workflows.register(name, graph_or_builder, replace=replace)

    def load_workflow(self, path: str | Path, *, replace: bool = False) -> CompiledGraph:
        """Load and register a workflow JSON file; raises WorkflowFileError listing every problem."""
        return self.workflows.load_file(path, replace=replace)

    def graph_run_async(self, workflow: str, input: str, *, session: str | None = None, run_id: str | None = None,
                        metadata: Mapping[str, Any] | None = None, state: Mapping[str, Any] | None = None,
                        checkpoints: bool = True) -> GraphHandle:
        """Start a run of `workflow` and return at once.

        `state` adds initial state keys beside `input`; `checkpoints=False` skips checkpoints (no resume).
        """
        return self._running_graphs().run_async(workflow, input, session=session, run_id=run_id, metadata=metadata,
                                                state=state, durable=checkpoints)

    def graph_run(self, workflow: str, input: str, *, timeout: float | None = None, **options: Any) -> GraphResult:
        """Run `workflow` until it completes, fails or waits for input."""
        return self.graph_run_async(workflow, input, **options).result(self._timeout(timeout))

    def graph_resume_async(self, run_id: str, *, input: str | None = None) -> GraphHandle:
        """Continue a run from its latest checkpoint (with `input` when it waits for one) and return at once."""
        return self._running_graphs().resume_async(run_id, input=input)

    def graph_resume(self, run_id: str, *, input: str | None = None, timeout: float | None = None) -> GraphResult:
        """Continue a run from its latest checkpoint (with `input` when it waits for one)."""
        return self.graph_resume_async(run_id, input=input).result(self._timeout(timeout))

    def graph_fork_async(self, run_id: str, step: int, state_patch: Mapping[str, Any] | None = None) -> GraphHandle:
        """Start a new run from checkpoint `step` of `run_id`, its state updated with `state_patch`; return at once."""
        return self._running_graphs().fork_async(run_id, step, state_patch)

    def graph_fork(self, run_id: str, step: int, state_patch: Mapping[str, Any] | None = None, *,
                   timeout: float | None = None) -> GraphResult:
        """Run a new run from checkpoint `step` of `run_id`, its state updated with `state_patch`."""
        return self.graph_fork_async(run_id, step, state_patch).result(self._timeout(timeout))

    def _timeout(self, timeout: float | None) -> float:
        return timeout if timeout is not None else self.config.run_timeout
