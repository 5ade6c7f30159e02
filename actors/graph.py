"""GraphActor: executes the runs of one compiled graph, one node at a time per run.

Runs are data (`_Run` in a shared table); the actor is long-lived and serves many runs at
once. For each run it sends `NodeInput` to a node actor, folds the `NodeOutput` into the
state, and hands the step's events plus its `Checkpoint` to the store as one `Write` (one
transaction). The next node starts only when the store reports the commit — the actor never
waits on the commit itself: the reply future forwards a `Committed` message to its mailbox.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pykka
from loguru import logger

from agentstage.actors.nodes import ForwardingFuture, NodeInput, NodeOutput
from agentstage.actors.store import Write
from agentstage.actors.supervision import Slot, SupervisedActor
from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import RunError
from agentstage.runtime.graph.compiled import CompiledGraph
from agentstage.runtime.graph.fanout import FANOUT_KEY, FanOut
from agentstage.runtime.graph.nodes import END, HumanNode, MapNode, ParallelNode, RouterNode, SetNode
from agentstage.runtime.graph.result import GraphResult
from agentstage.runtime.state.records import Checkpoint, Event, Record

__all__ = ["Committed", "ExecuteGraph", "GraphActor", "RunTable"]


@dataclass(frozen=True, slots=True)
class ExecuteGraph:
    """Run `run_id` from a checkpoint: continue at `next_node` with `state` after step `step`.

    `opening` is the first event type (`run.started`, `run.resumed`) with `opening_data`;
    `checkpoint` (new runs, forks) is committed with it before the first node starts.
    `input` answers a waiting human node. `durable=False` skips checkpoints (benchmarks).
    """

    run_id: str
    session_id: str
    state: dict[str, Any]
    next_node: str | None
    step: int
    first_seq: int
    reply: pykka.Future[GraphResult]
    opening: str = "run.started"
    opening_data: dict[str, Any] = field(default_factory=dict)
    checkpoint: Checkpoint | None = None
    input: str | None = None
    durable: bool = True
    attempt: int = 0
    """The task attempt executing (on a worker): its writes carry it, so a superseded attempt's are refused."""


@dataclass(frozen=True, slots=True)
class Committed:
    """The store committed (or failed to commit) the write a run was waiting for."""

    run_id: str
    token: int
    error: str | None = None


@dataclass
class _Run:
    run_id: str
    session_id: str
    state: dict[str, Any]
    step: int
    seq: int
    reply: pykka.Future[GraphResult]
    durable: bool
    input: str | None
    next: str | None = None
    current: str | None = None
    last: str = ""
    trace: list[str] = field(default_factory=list)
    events: list[Record] = field(default_factory=list)
    token: int = 0
    entered: bool = False
    outcome: GraphResult | None = None
    fan: FanOut | None = None
    attempt: int = 0

    @property
    def fence(self) -> tuple[str, int]:
        return self.run_id, self.attempt


class RunTable(dict[str, _Run]):
    """The runs a graph actor is executing; outlives a crashed actor so its successor continues."""


class GraphActor(SupervisedActor):
    """Executes runs of `graph`; `nodes(kind)` gives the node actor (or pool dispatcher) for a node kind."""

    def __init__(self, graph: CompiledGraph, store: Slot, nodes: Callable[[str], Callable[[NodeInput], None]],
                 runs: RunTable, slot: Slot | None = None,
                 cancelled: Callable[[str, int], bool] | None = None) -> None:
        super().__init__(slot)
        self.graph = graph
        self.store = store
        self.nodes = nodes
        self.runs = runs
        self.cancelled = cancelled

    def receive(self, message: Any) -> None:
        if isinstance(message, NodeOutput):
            self._on_output(message)
        elif isinstance(message, Committed):
            self._on_committed(message)
        elif isinstance(message, ExecuteGraph):
            self._on_execute(message)
        else:
            raise TypeError(f"GraphActor cannot handle {type(message).__name__}")

    def on_crash(self, message: Any, error: BaseException) -> None:
        run = self.runs.get(getattr(message, "run_id", ""))
        logger.opt(exception=error).error("graph {} crashed in run {}", self.graph.name, getattr(run, "run_id", "?"))
        if run is not None:
            self._fail(run, f"graph actor crashed: {error!r}", run.current)

    def _on_execute(self, message: ExecuteGraph) -> None:
        if message.run_id in self.runs:
            error = RunError(message.run_id, f"run {message.run_id} is already executing")
            message.reply.set_exception(exc_info=(type(error), error, None))
            return
        run = _Run(message.run_id, message.session_id, dict(message.state), message.step, message.first_seq,
                   message.reply, message.durable, message.input, next=message.next_node, attempt=message.attempt)
        self.runs[run.run_id] = run
        with logger.contextualize(run_id=run.run_id, session_id=run.session_id):
            self._emit(run, message.opening, data=message.opening_data)
            if message.checkpoint is None:
                self._advance(run)
                return
            cp = message.checkpoint
            run.last = cp.node if cp.node in self.graph.nodes else ""
            if run.durable:
                run.events.append(cp)
                self._emit(run, "checkpoint.saved", node=cp.node, data=self._saved(cp))
            if run.next is None:
                self._complete(run)
            else:
                self._announce(run)
            self._commit(run)

    def _advance(self, run: _Run) -> None:
        """Start the run's next node (or finish the run, or stop it when it was cancelled)."""
        name = run.next
        if name is not None and self.cancelled is not None and self.cancelled(*run.fence):
            self._cancel(run)
            return
        if name is None:
            self._complete(run)
            self._commit(run)
            return
        node = self.graph.node(name)
        fan = None
        if isinstance(node, (ParallelNode, MapNode)):
            try:
                fan = FanOut.begin(node, run.state, run.step + 1)
            except ValueError as exc:
                self._fail(run, f"node {name!r} failed: {exc}", name)
                return
        limit = self.graph.max_steps
        if limit is not None and run.step + (max(fan.remaining, 1) if fan else 1) > limit:
            self._fail(run, f"max_steps ({limit}) reached before node {name!r}", None)
            return
        run.current = name
        if not run.entered:
            self._emit(run, "node.entered", node=name, data={"step": run.step + 1, "kind": node.kind})
        run.entered = False
        if isinstance(node, HumanNode):
            if run.input is None:
                self._wait(run, node)
                return
            update, run.input = {node.key: run.input}, None
            self._on_output(NodeOutput(run.run_id, run.step + 1, name, update, data={"human": True}))
            return
        if isinstance(node, SetNode):
            try:
                update = node.update(run.state, {"run_id": run.run_id, "session_id": run.session_id})
            except Exception as exc:  # NOTE: a set node's function is application code
                self._fail(run, f"node {name!r} failed: {type(exc).__name__}: {exc}", name)
                return
            self._on_output(NodeOutput(run.run_id, run.step + 1, name, dict(update)))
            return
        self._flush(run)
        if fan is not None:
            run.fan = fan
            if fan.complete:
                self._join(run)
            else:
                self._start_branches(run)
            return
        self.nodes(node.kind)(NodeInput(run.run_id, run.session_id, run.step + 1, node, dict(run.state), self.slot,
                                        attempt=run.attempt))

    def _start_branches(self, run: _Run) -> None:
        """Send the fan-out's next branches to their node actors (all step at the node's first step)."""
        fan = run.fan
        assert fan is not None
        for branch in fan.start():
            self.nodes(branch.node.kind)(NodeInput(run.run_id, run.session_id, fan.step, branch.node,
                                                   dict(branch.state), self.slot, branch.index, run.attempt))

    def _on_branch(self, run: _Run, output: NodeOutput) -> None:
        """A branch finished: checkpoint its result (a step of its own), then start more or join."""
        fan = run.fan
        assert fan is not None
        branch = fan.branch(output.node)
        if branch is None or output.step != fan.step or run.outcome is not None:
            logger.debug("stale output of branch {} in run {}", output.node, output.run_id)
            return
        if output.error is not None:
            run.fan = None
            self._fail(run, f"branch {output.node!r} of node {fan.node.name!r} failed: {output.error}", fan.node.name)
            return
        fan.finish(output.node, json.loads(json.dumps(output.update.get(branch.node.key), default=str)))
        self._emit(run, "branch.completed", node=fan.node.name, data={
            "branch": output.node, "index": branch.index, "step": run.step + 1, "remaining": fan.remaining,
            **output.data})
        if fan.complete:
            self._join(run)
            return
        run.step += 1
        run.state[FANOUT_KEY] = fan.progress()
        if run.durable:
            cp = Checkpoint(run.run_id, run.step, fan.node.name, fan.node.name, fan.checkpointed(output.node),
                            utc_now())
            run.events.append(cp)
            self._emit(run, "checkpoint.saved", node=fan.node.name, data=self._saved(cp))
        if self.cancelled is not None and self.cancelled(*run.fence):
            run.fan = None
            self._cancel(run)
            return
        if run.durable:
            self._commit(run)
        else:
            self._flush(run)
        self._start_branches(run)

    def _join(self, run: _Run) -> None:
        """Every branch finished: the node's output is the reduced results, as one ordinary node step."""
        fan = run.fan
        assert fan is not None
        run.fan = None
        run.state.pop(FANOUT_KEY, None)
        try:
            update = fan.joined()
        except ValueError as exc:
            self._fail(run, f"node {fan.node.name!r} failed: {exc}", fan.node.name)
            return
        self._on_output(NodeOutput(run.run_id, run.step + 1, fan.node.name, update,
                                   data={"branches": len(fan.branches)}))

    def _on_output(self, output: NodeOutput) -> None:
        run = self.runs.get(output.run_id)
        if run is not None and run.fan is not None and output.node != run.fan.node.name:
            with logger.contextualize(run_id=run.run_id, session_id=run.session_id):
                self._on_branch(run, output)
            return
        if run is None or run.current != output.node or output.step != run.step + 1:
            logger.debug("stale output of node {} in run {}", output.node, output.run_id)
            return
        with logger.contextualize(run_id=run.run_id, session_id=run.session_id):
            if output.error is not None:
                self._fail(run, f"node {output.node!r} failed: {output.error}", output.node)
                return
            node = self.graph.node(output.node)
            # NOTE: state is what a checkpoint holds: JSON. Normalising now makes a resumed run see what this one saw.
            run.state.update(json.loads(json.dumps(output.update, default=str)))
            run.step += 1
            run.trace.append(output.node)
            run.last, run.current = output.node, None
            target = output.next if isinstance(node, RouterNode) else self.graph.successor(output.node)
            run.next = None if target in (None, END) else target
            self._emit(run, "node.exited", node=output.node,
                       data={"step": run.step, "next_node": run.next, "keys": sorted(output.update), **output.data})
            if run.durable:
                cp = Checkpoint(run.run_id, run.step, output.node, run.next, dict(run.state), utc_now())
                run.events.append(cp)
                self._emit(run, "checkpoint.saved", node=output.node, data=self._saved(cp))
            if run.next is None:
                self._complete(run)
            elif run.durable:
                self._announce(run)
            if run.durable or run.outcome is not None:
                self._commit(run)
            else:
                self._flush(run)
                self._advance(run)

    def _on_committed(self, message: Committed) -> None:
        run = self.runs.get(message.run_id)
        if run is None or message.token != run.token:
            return
        with logger.contextualize(run_id=run.run_id, session_id=run.session_id):
            if message.error is not None:
                if run.outcome is not None and run.outcome.status == "failed":
                    self._settle(run)
                    return
                self._fail(run, f"checkpoint commit failed: {message.error}", run.current)
                return
            if run.outcome is not None:
                self._settle(run)
            elif run.fan is None:
                # NOTE: during a fan-out, branch checkpoints commit while other branches run; nothing to advance.
                self._advance(run)

    def _announce(self, run: _Run) -> None:
        """Add the next node's `node.entered` to the commit that chose it (one write per step, not two)."""
        limit = self.graph.max_steps
        if run.next is not None and (limit is None or run.step + 1 <= limit):
            node = self.graph.node(run.next)
            self._emit(run, "node.entered", node=node.name, data={"step": run.step + 1, "kind": node.kind})
            run.entered = True

    def _wait(self, run: _Run, node: HumanNode) -> None:
        self._emit(run, "run.waiting", node=node.name, data={"step": run.step + 1, "prompt": node.prompt})
        run.outcome = self._result(run, "waiting", waiting_for=node.name, prompt=node.prompt)
        self._commit(run)

    def _complete(self, run: _Run) -> None:
        output = self.graph.output(run.state, run.last)
        self._emit(run, "run.completed", data={"output": output, "step": run.step, "trace": run.trace})
        run.outcome = self._result(run, "completed", output=output)

    def _cancel(self, run: _Run) -> None:
        """End the run at this step boundary (cooperative cancellation); its checkpoints stay."""
        self._emit(run, "run.cancelled", data={"step": run.step, "next_node": run.next})
        run.outcome = self._result(run, "cancelled")
        self._commit(run)

    def _fail(self, run: _Run, error: str, node: str | None) -> None:
        if node is not None:
            self._emit(run, "node.exited", node=node, error=error, data={"step": run.step + 1, "status": "failed"})
        self._emit(run, "run.failed", error=error, node=node, data={"step": run.step})
        run.events = [e for e in run.events if isinstance(e, Event)]
        run.outcome = self._result(run, "failed", error=error)
        self._commit(run)

    def _settle(self, run: _Run) -> None:
        self.runs.pop(run.run_id, None)
        if run.outcome is not None:
            run.reply.set(run.outcome)

    def _result(self, run: _Run, status: str, **fields: Any) -> GraphResult:
        return GraphResult(run.run_id, run.session_id, status, state=dict(run.state), step=run.step,
                           trace=tuple(run.trace), **fields)

    def _emit(self, run: _Run, type: str, *, node: str | None = None, data: dict[str, Any] | None = None,
              error: str | None = None) -> None:
        run.events.append(Event(run.run_id, run.seq, type, utc_now(), run.session_id, data or {}, node, error=error))
        run.seq += 1

    def _flush(self, run: _Run) -> None:
        """Send buffered events without waiting (they commit before any later write of this process)."""
        if run.events:
            self.store.tell(Write(tuple(run.events), fence=run.fence))
            run.events = []

    def _commit(self, run: _Run) -> None:
        """Write what is buffered as one transaction; `Committed` arrives when it is durable."""
        run.token += 1
        run_id, token = run.run_id, run.token
        reply = ForwardingFuture(self.slot, lambda _value, error: Committed(
            run_id, token, None if error is None else str(error)))
        records, run.events = tuple(run.events), []
        self.store.tell(Write(records, reply, fence=run.fence))

    @staticmethod
    def _saved(cp: Checkpoint) -> dict[str, Any]:
        size = len(json.dumps(cp.state, separators=(",", ":"), default=str).encode())
        return {"step": cp.step, "next_node": cp.next_node, "state_bytes": size, "version": cp.version}
