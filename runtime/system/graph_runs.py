"""Graph runs of a System: node actors, one GraphActor per workflow, and run / resume / fork.

`continue_from` is the one operation underneath: execute run X of workflow W from a given
checkpoint. `run_async`, `resume_async` and `fork_async` prepare its arguments from the
store; a worker that receives a checkpoint in a task calls it directly.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pykka

from agentstage.actors.graph import ExecuteGraph, GraphActor, RunTable
from agentstage.actors.nodes import AgentNodeActor, RouterNodeActor, ToolNodeActor
from agentstage.actors.pool import AgentPool
from agentstage.runtime.aio import IOLoop
from agentstage.actors.supervision import Slot
from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.config import Config
from agentstage.runtime.errors import NotFound, RunError
from agentstage.runtime.futures import Reply, settled
from agentstage.runtime.graph.builder import GraphError
from agentstage.runtime.graph.compiled import CompiledGraph
from agentstage.runtime.graph.nodes import AgentNode, ToolNode
from agentstage.runtime.graph.result import GraphResult
from agentstage.runtime.state.base import StoreReader
from agentstage.runtime.state.reader import RunRow
from agentstage.runtime.state.records import Checkpoint
from agentstage.runtime.tools.journal import EffectJournal
from agentstage.runtime.tools.registry import ToolRegistry
from agentstage.runtime.workflow.registry import WorkflowRegistry

__all__ = ["GraphHandle", "GraphRuns", "workflow_dir"]

START = "__start__"


@dataclass(frozen=True, slots=True)
class GraphHandle:
    """A graph run in progress: its ids now, its GraphResult once durable."""

    run_id: str
    session_id: str
    future: pykka.Future[GraphResult]

    def result(self, timeout: float | None = None) -> GraphResult:
        """Wait for the run to complete, fail or pause; raises pykka.Timeout after `timeout` seconds."""
        return self.future.get(timeout=timeout)

    async def result_async(self, timeout: float | None = None) -> GraphResult:
        """`result` awaited on the running event loop, holding no thread while the run goes on."""
        return await settled(self.future, timeout)


def workflow_dir(config: Config) -> Path:
    """Where workflow JSON files are loaded from."""
    return Path(config.workflow_dir) if config.workflow_dir else Path(config.home) / "workflows"


class GraphRuns:
    """Starts the node actors and a GraphActor per workflow; all graph runs of a System go through it."""

    def __init__(self, config: Config, store: Slot, reader: Callable[[], StoreReader], tools: ToolRegistry,
                 journal: EffectJournal | None, pools: Callable[[str], AgentPool | None],
                 workflows: WorkflowRegistry, cancelled: Callable[[str, int], bool] | None = None,
                 io: IOLoop | None = None) -> None:
        self.config = config
        self.cancelled = cancelled
        self.store = store
        self.reader = reader
        self.tools = tools
        self.journal = journal
        self.pools = pools
        self.workflows = workflows
        self.owner: dict[str, Any] | None = None
        """Recorded in each run's opening event (see `RunOwner`); None on workers."""
        self._lock = threading.Lock()
        self._actors: dict[str, tuple[CompiledGraph, Slot]] = {}
        self._retired: list[Slot] = []
        self._tables: dict[str, RunTable] = {}
        self._tool_pool = AgentPool("graph:tools", max(config.graph_node_pool, 1), lambda slot, on_idle:
                                    ToolNodeActor.start(tools, journal, slot, on_idle, config.tool_timeout, io,
                                                        config.tool_threads), eager=0)
        # PERF: the node actors start with a System but run only for graph runs: they start on first use.
        self._router = Slot("graph:router", lambda slot: RouterNodeActor.start(slot), lazy=True)
        self._agent = Slot("graph:agent", lambda slot: AgentNodeActor.start(pools, self._progress, store, slot),
                           lazy=True)
        self._dispatch = {"tool": self._tool_pool.dispatch, "router": self._router.tell, "agent": self._agent.tell}

    def stop(self, timeout: float = 5.0) -> None:
        """Stop graph actors first, then the node actors (queued messages are still handled)."""
        with self._lock:
            slots = [slot for _, slot in self._actors.values()] + self._retired
            self._actors.clear()
            self._retired.clear()
        for slot in slots:
            slot.stop(timeout)
        self._agent.stop(timeout)
        self._router.stop(timeout)
        self._tool_pool.stop(timeout)

    def graph(self, workflow: str) -> CompiledGraph:
        """The compiled workflow, checked against this System's tools and agents; raises NotFound/GraphError."""
        graph = self.workflows.get(workflow)
        problems = []
        for node in graph.runnable_nodes():
            if isinstance(node, ToolNode) and node.tool not in self.tools:
                problems.append(f"node {node.name!r} uses unknown tool {node.tool!r}")
            if isinstance(node, AgentNode) and self.pools(node.agent) is None:
                problems.append(f"node {node.name!r} uses unknown agent {node.agent!r}")
        if problems:
            raise GraphError(workflow, problems)
        return graph

    def run_async(self, workflow: str, input: str, *, session: str | None = None, run_id: str | None = None,
                  metadata: Mapping[str, Any] | None = None, state: Mapping[str, Any] | None = None,
                  durable: bool = True) -> GraphHandle:
        """Start a new run of `workflow` on `input` (plus initial `state` keys); step 0 commits with `run.started`."""
        first_seq = self._fresh(run_id) if run_id else 1
        return self.start_from(workflow, run_id or new_id(), session or new_id(), input, first_seq=first_seq,
                               metadata=metadata, state=state, durable=durable)

    def start_from(self, workflow: str, run_id: str, session_id: str, input: str, *, first_seq: int,
                   metadata: Mapping[str, Any] | None = None, state: Mapping[str, Any] | None = None,
                   durable: bool = True, opening_data: Mapping[str, Any] | None = None,
                   reply: pykka.Future[GraphResult] | None = None, attempt: int = 0) -> GraphHandle:
        """Run `run_id` of `workflow` from its first step, numbering events from `first_seq`: the opening
        `run.started` (its data plus `opening_data`) and checkpoint 0 commit together, embedded or on a worker."""
        graph = self.graph(workflow)
        state = {**dict(state or {}), "input": input}
        opening = {"kind": "graph", "workflow": workflow, "input": input,
                   "metadata": {**self._origin(workflow), **dict(metadata or {})}, **dict(opening_data or {})}
        checkpoint = Checkpoint(run_id, 0, START, graph.entry, state, utc_now())
        return self._execute(workflow, ExecuteGraph(run_id, session_id, state, graph.entry, 0, first_seq,
                                                    reply or Reply(), "run.started", opening,
                                                    checkpoint, durable=durable, attempt=attempt))

    def resume_async(self, run_id: str, *, input: str | None = None) -> GraphHandle:
        """Continue a run from its latest checkpoint; a finished run is a no-op, an unknown run NotFound."""
        reader = self.reader()
        row = self._graph_run(run_id)
        try:
            checkpoint = reader.checkpoint(run_id)
        except NotFound:
            checkpoint = {"step": 0, "node": START, "next_node": self.workflows.get(row.workflow).entry,
                          "state": {"input": row.input}}
        if row.status in ("completed", "cancelled"):
            done = GraphResult(run_id, row.session_id, row.status, row.output or "", row.error,
                               checkpoint["state"], checkpoint["step"], note=f"run is already {row.status}; nothing to resume")
            future: pykka.Future[GraphResult] = Reply()
            future.set(done)
            return GraphHandle(run_id, row.session_id, future)
        if row.status == "waiting" and input is None:
            raise RunError(run_id, f"run {run_id} is waiting for input at node {checkpoint['next_node']!r}:"
                                   " resume it with input")
        if row.status != "waiting" and input is not None:
            raise RunError(run_id, f"run {run_id} is {row.status}, not waiting for input")
        data = {"step": checkpoint["step"], "node": checkpoint["next_node"], "previous_status": row.status}
        return self.continue_from(row.workflow, run_id, row.session_id, checkpoint, input=input, opening_data=data)

    def fork_async(self, run_id: str, step: int, state_patch: Mapping[str, Any] | None = None, *,
                   new_run_id: str | None = None) -> GraphHandle:
        """Start a new run from checkpoint `step` of run `run_id`, its state updated with `state_patch`."""
        row = self._graph_run(run_id)
        source = self.reader().checkpoint(run_id, step)
        graph = self.graph(row.workflow)
        state = {**source["state"], **dict(state_patch or {})}
        fork_id = new_run_id or new_id()
        opening = {"kind": "graph", "workflow": row.workflow, "input": str(state.get("input", row.input)),
                   "metadata": {**self._origin(row.workflow), "forked_from": run_id, "fork_step": step}}
        next_node = source["next_node"]
        if next_node is not None and next_node not in graph.nodes:
            raise RunError(run_id, f"checkpoint {step} continues at {next_node!r}, which workflow"
                                   f" {row.workflow!r} no longer has")
        checkpoint = Checkpoint(fork_id, step, source["node"], next_node, state, utc_now())
        return self._execute(row.workflow, ExecuteGraph(fork_id, row.session_id, state, next_node, step, 1,
                                                        Reply(), "run.started", opening, checkpoint))

    def requeue_async(self, row: RunRow, attempt: int, first_seq: int) -> GraphHandle:
        """Run failed or cancelled graph run `row` again as `attempt` from its latest checkpoint."""
        self._graph_run(row.run_id)
        try:
            checkpoint = self.reader().checkpoint(row.run_id)
        except NotFound:
            checkpoint = {"step": 0, "node": START, "next_node": self.graph(row.workflow).entry,
                          "state": {"input": row.input}}
        data = {"step": checkpoint["step"], "node": checkpoint["next_node"], "attempt": attempt,
                "previous_status": row.status}
        return self.continue_from(row.workflow, row.run_id, row.session_id, checkpoint, first_seq=first_seq,
                                  opening_data=data)

    def continue_from(self, workflow: str, run_id: str, session_id: str, checkpoint: Mapping[str, Any], *,
                      first_seq: int | None = None, input: str | None = None,
                      opening_data: Mapping[str, Any] | None = None,
                      reply: pykka.Future[GraphResult] | None = None, attempt: int = 0) -> GraphHandle:
        """Execute run `run_id` of `workflow` from `checkpoint` (`step`, `next_node`, `state`).

        Nodes up to the checkpoint are not run again. `first_seq` numbers the new events
        (default: after the run's last stored event); `input` answers a waiting human node;
        `reply` (default: a new future) receives the GraphResult; `attempt` is the task attempt
        a worker executes (its writes carry it).
        """
        next_node = checkpoint["next_node"]
        if next_node is not None and next_node not in self.graph(workflow).nodes:
            raise RunError(run_id, f"checkpoint {checkpoint['step']} continues at {next_node!r}, which workflow"
                                   f" {workflow!r} does not have")
        if first_seq is None:
            first_seq = last_seq(self.reader(), run_id) + 1
        message = ExecuteGraph(run_id, session_id, dict(checkpoint["state"]), checkpoint["next_node"],
                               int(checkpoint["step"]), first_seq, reply or Reply(), "run.resumed",
                               dict(opening_data or {"step": checkpoint["step"]}), input=input, attempt=attempt)
        return self._execute(workflow, message)

    def _graph_run(self, run_id: str) -> RunRow:
        """The run's row; a workflow loaded from a file by another process is loaded here too."""
        row = self.reader().get_run(run_id)
        if row.kind != "graph" or not row.workflow:
            raise RunError(run_id, f"run {run_id} is not a graph run")
        path = row.metadata.get("workflow_file")
        if row.workflow not in self.workflows and isinstance(path, str):
            self.workflows.load_file(path)
        return row

    def _fresh(self, run_id: str) -> int:
        """The first event number of a new run with a chosen id: after a `run.queued` row, else 1."""
        try:
            row = self.reader().get_run(run_id)
        except NotFound:
            return 1
        if row.status != "queued":
            raise RunError(run_id, f"run {run_id} already exists ({row.status}); resume or fork it instead")
        return last_seq(self.reader(), run_id) + 1

    def _origin(self, workflow: str) -> dict[str, str]:
        path = self.workflows.source_file(workflow)
        return {"workflow_file": str(Path(path).resolve())} if path else {}

    def active(self) -> list[str]:
        """Ids of the runs executing in this process."""
        with self._lock:
            return sorted(run_id for table in self._tables.values() for run_id in table)

    def _execute(self, workflow: str, message: ExecuteGraph) -> GraphHandle:
        if self.owner is not None:
            message = dataclasses.replace(message, opening_data={**message.opening_data, "owner": self.owner})
        self._actor(workflow).tell(message)
        return GraphHandle(message.run_id, message.session_id, message.reply)

    def _actor(self, workflow: str) -> Slot:
        graph = self.graph(workflow)
        with self._lock:
            current = self._actors.get(workflow)
            if current is not None and current[0] is graph:
                return current[1]
            if current is not None:
                self._retired.append(current[1])
            table = self._tables.setdefault(f"{workflow}:{id(graph)}", RunTable())
            slot = Slot(f"graph:{workflow}", lambda slot: GraphActor.start(graph, self.store, self._dispatch.__getitem__,
                                                                            table, slot, self.cancelled))
            self._actors[workflow] = (graph, slot)
            return slot

    def _progress(self, run_id: str) -> tuple[int, int]:
        reader = self.reader()
        try:
            attempts = reader.get_run(run_id).attempt
        except NotFound:
            attempts = 0
        return last_seq(reader, run_id), attempts


def last_seq(reader: StoreReader, run_id: str) -> int:
    """The highest event sequence number stored for a run (0 when none); works on every store backend."""
    try:
        seq = reader.get_run(run_id).last_seq
    except NotFound:
        seq = 0
    while True:
        page = reader.events(run_id, after_seq=seq, limit=1000)
        if not page:
            return seq
        seq = page[-1].seq
