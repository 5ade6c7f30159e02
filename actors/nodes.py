"""Node actors: execute one graph node for a run (`NodeInput`) and answer with a `NodeOutput`.

Node actors are long-lived and shared by every graph and run of a System, and none of them
waits: tool nodes run calls on tool threads and answer when a call finishes, routers are
cheap, agent nodes hand the work to the agent pools — the agent's reply future forwards the answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pykka
from loguru import logger

from agentstage.actors.agent import StartRun
from agentstage.runtime.wire import RunAgent, RunResult
from agentstage.actors.store import Write
from agentstage.actors.supervision import Slot, SupervisedActor
from agentstage.runtime.aio import IOLoop
from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import NotFound, ToolError
from agentstage.runtime.graph.nodes import AgentNode, Node, RouterNode, ToolNode, render
from agentstage.runtime.state.records import Event, ToolEffect
from agentstage.runtime.tools.journal import EffectJournal, effect_key
from agentstage.runtime.tools.registry import RUN_ARG, SESSION_ARG, Tool, ToolRegistry

__all__ = ["AgentNodeActor", "ForwardingFuture", "NodeInput", "NodeOutput", "RouterNodeActor", "ToolNodeActor",
           "child_run_id", "notifying"]


@dataclass(frozen=True, slots=True)
class NodeInput:
    """Execute `node` as step `step` of run `run_id` on `state`; answer `reply_to` with a NodeOutput.

    `branch` is the branch index when the node is one branch of a parallel or map node.
    """

    run_id: str
    session_id: str
    step: int
    node: Node
    state: Mapping[str, Any]
    reply_to: Any
    branch: int | None = None
    attempt: int = 0
    """The run's task attempt (on a worker); a child agent run's records carry it as their fence."""


@dataclass(frozen=True, slots=True)
class NodeOutput:
    """A node's result: the state `update`, the router's `next` node, or an `error`."""

    run_id: str
    step: int
    node: str
    update: dict[str, Any] = field(default_factory=dict)
    next: str | None = None
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class ForwardingFuture(pykka.ThreadingFuture):
    """A future that, once settled, tells `target` the message `wrap(value, error)`.

    Lets an actor learn that a store commit or an agent run finished without blocking on
    the future: the settling thread forwards the outcome into the actor's mailbox.
    """

    def __init__(self, target: Any, wrap: Callable[[Any, BaseException | None], Any]) -> None:
        super().__init__()
        self._target = target
        self._wrap = wrap

    def set(self, value: Any = None) -> None:
        super().set(value)
        self._forward(value, None)

    def set_exception(self, exc_info: Any = None) -> None:
        super().set_exception(exc_info)
        error = exc_info[1] if exc_info else None
        self._forward(None, error if isinstance(error, BaseException) else RuntimeError(repr(error)))

    def _forward(self, value: Any, error: BaseException | None) -> None:
        try:
            self._target.tell(self._wrap(value, error))
        except pykka.ActorDeadError:
            # NOTE: the target stopped (System shutting down); the settling thread must not fail for it.
            logger.debug("forwarded outcome dropped: its actor has stopped")


class _Notify:
    """Something with `tell` that hands a forwarded (result, error) pair to a function."""

    def __init__(self, done: Callable[[Any, BaseException | None], None]) -> None:
        self.done = done

    def tell(self, outcome: tuple[Any, BaseException | None]) -> None:
        self.done(*outcome)


def notifying(done: Callable[[Any, BaseException | None], None]) -> ForwardingFuture:
    """A future that calls `done(result, error)` from the settling thread once it is settled."""
    return ForwardingFuture(_Notify(done), lambda value, error: (value, error))


def _failed(message: NodeInput, error: str) -> NodeOutput:
    return NodeOutput(message.run_id, message.step, message.node.name, error=error)


def child_run_id(run_id: str, step: int, branch: int | None = None) -> str:
    """The run id of the agent run an agent node (or branch `branch` of a fan-out) starts at `step`;
    stable across resumes."""
    return f"{run_id}.{step}" if branch is None else f"{run_id}.{step}.{branch + 1}"


class _NodeActor(SupervisedActor):
    """Shared crash handling: a crashing node still answers, with the error."""

    def __init__(self, slot: Slot | None = None, on_idle: Callable[[], None] | None = None) -> None:
        super().__init__(slot)
        self.on_idle = on_idle

    def receive(self, message: Any) -> None:
        if not isinstance(message, NodeInput):
            raise TypeError(f"{type(self).__name__} cannot handle {type(message).__name__}")
        with logger.contextualize(run_id=message.run_id, session_id=message.session_id):
            output = self.execute(message)
        if output is not None:
            message.reply_to.tell(output)
            self._idle()

    def execute(self, message: NodeInput) -> NodeOutput | None:
        raise NotImplementedError

    def on_crash(self, message: Any, error: BaseException) -> None:
        if isinstance(message, NodeInput):
            logger.opt(exception=error).error("node {} crashed in run {}", message.node.name, message.run_id)
            message.reply_to.tell(NodeOutput(message.run_id, message.step, message.node.name,
                                             error=f"node actor crashed: {error!r}"))
        self._idle()

    def _idle(self) -> None:
        if self.on_idle is not None:
            self.on_idle()


@dataclass(frozen=True, slots=True)
class _ToolAnswered:
    """A tool node's call finished (or timed out); `output` goes to the graph."""

    call: int
    message: NodeInput
    output: NodeOutput
    timed_out: bool = False


class ToolNodeActor(_NodeActor):
    """Runs a node's tool on a tool thread and answers when it finishes; never waits on the call itself.

    Side-effecting calls go through the effect journal. With `timeout` (and the process's `io`
    loop for the timer), a call still running after `timeout` seconds answers with an error and
    later calls get fresh threads.
    """

    def __init__(self, tools: ToolRegistry, journal: EffectJournal | None, slot: Slot | None = None,
                 on_idle: Callable[[], None] | None = None, timeout: float = 0.0, io: IOLoop | None = None,
                 threads: int = 4) -> None:
        super().__init__(slot, on_idle)
        self.tools = tools
        self.journal = journal
        self.timeout = timeout
        self.io = io
        self.threads = max(1, threads)
        self._executor: ThreadPoolExecutor | None = None
        self._open: set[int] = set()
        self._calls = itertools.count()

    def on_start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="graph-tool")

    def on_stop(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def receive(self, message: Any) -> None:
        if not isinstance(message, _ToolAnswered):
            super().receive(message)
            return
        if message.call not in self._open:
            return
        self._open.discard(message.call)
        if message.timed_out:
            # NOTE: a Python thread cannot be killed; later calls get fresh threads instead of queueing behind it.
            assert self._executor is not None
            self._executor.shutdown(wait=False)
            self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="graph-tool")
        message.message.reply_to.tell(message.output)
        self._idle()

    def _tell_self(self, answer: _ToolAnswered) -> None:
        try:
            (self.slot if self.slot is not None else self.actor_ref).tell(answer)
        except pykka.ActorDeadError:
            logger.debug("tool node answer dropped: its actor has stopped")

    def execute(self, message: NodeInput) -> NodeOutput | None:
        node = message.node
        assert isinstance(node, ToolNode)
        try:
            arguments = node.arguments(message.state)
            tool = self.tools.get(node.tool)
        except KeyError as exc:
            return _failed(message, str(exc.args[0]))
        except NotFound:
            return _failed(message, f"unknown tool {node.tool!r}")
        assert self._executor is not None
        call = next(self._calls)
        self._open.add(call)
        future = self._executor.submit(self._run, message, tool, arguments)
        future.add_done_callback(lambda done: self._tell_self(_ToolAnswered(call, message, done.result())))
        if self.timeout and self.io is not None:
            error = f"tool {tool.name} timed out after {self.timeout}s"
            timed_out = _ToolAnswered(call, message, _failed(message, error), True)
            self.io.after(self.timeout, lambda: self._tell_self(timed_out))
        return None

    def _run(self, message: NodeInput, tool: Tool, arguments: dict[str, Any]) -> NodeOutput:
        """The call and its journal entries, on a tool thread; failures become the node's error."""
        node = message.node
        key = effect_key(message.run_id, message.step, node.name)
        journalled = tool.side_effects and self.journal is not None
        try:
            replayed, result = self.journal.lookup(key, message.attempt) if journalled else (False, None)
            if not replayed:
                result = tool(_bound(tool, message, arguments))
                if journalled:
                    self.journal.record(ToolEffect(key, message.run_id, tool.name, result, utc_now()))
        except ToolError as exc:
            return _failed(message, exc.message)
        except Exception as exc:  # NOTE: tools are user code; a bug fails the node, never the actor
            return _failed(message, f"{type(exc).__name__}: {exc}")
        return NodeOutput(message.run_id, message.step, node.name, {node.key: result},
                          data={"tool": tool.name, "replayed": replayed})


def _bound(tool: Tool, message: NodeInput, arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments with the run's session and id for a tool that keeps state per session or run."""
    bound = {**({SESSION_ARG: message.session_id} if tool.needs_session else {}),
             **({RUN_ARG: message.run_id} if tool.needs_run else {})}
    return {**arguments, **bound} if bound else arguments


class RouterNodeActor(_NodeActor):
    """Evaluates a router's rule (or function) and names the next node."""

    def execute(self, message: NodeInput) -> NodeOutput:
        node = message.node
        assert isinstance(node, RouterNode)
        try:
            label, target = node.choose(message.state)
        except Exception as exc:  # NOTE: a router function is user code
            return NodeOutput(message.run_id, message.step, node.name, error=f"{type(exc).__name__}: {exc}")
        return NodeOutput(message.run_id, message.step, node.name, next=target, data={"route": label})


class AgentNodeActor(_NodeActor):
    """Starts the node's agent run (a child run linked by `parent_run_id`) and returns at once.

    The child's id is stable per (run, step), so a resumed node continues the same child run
    (its effect journal keys match) as a new attempt with fresh event numbers.
    """

    def __init__(self, pools: Callable[[str], Any], progress: Callable[[str], tuple[int, int]],
                 store: Slot, slot: Slot | None = None) -> None:
        super().__init__(slot)
        self.pools = pools
        self.progress = progress
        self.store = store

    def execute(self, message: NodeInput) -> None:
        node = message.node
        assert isinstance(node, AgentNode)
        child = child_run_id(message.run_id, message.step, message.branch)
        pool = self.pools(node.agent)
        if pool is None:
            return NodeOutput(message.run_id, message.step, node.name, error=f"unknown agent {node.agent!r}")
        last_seq, attempts = self.progress(child)
        prompt = render(node.prompt, message.state)
        metadata = {"parent_run_id": message.run_id, "graph_node": node.name, "graph_step": message.step,
                    **({"parent_attempt": message.attempt} if message.attempt else {})}
        # NOTE: run.queued creates the child's row with its parent link before the agent's run.started.
        self.store.tell(Write((Event(child, last_seq + 1, "run.queued", utc_now(), message.session_id, {
            "kind": "agent", "agent": node.agent, "input": prompt, "attempt": attempts + 1,
            "parent_run_id": message.run_id, "metadata": metadata}, node.name),),
                              fence=(message.run_id, message.attempt)))
        request = RunAgent(child, message.session_id, prompt, node.agent, attempt=attempts + 1,
                           first_seq=last_seq + 2, metadata=metadata)

        def answer(result: RunResult | None, error: BaseException | None) -> NodeOutput:
            if error is not None or result is None:
                return NodeOutput(message.run_id, message.step, node.name, error=f"agent run {child}: {error!r}")
            if not result.ok:
                return NodeOutput(message.run_id, message.step, node.name,
                                  error=f"agent run {child} {result.status}: {result.error}")
            return NodeOutput(message.run_id, message.step, node.name,
                              {node.key: result.output, "output": result.output}, data={"child_run_id": child})

        pool.dispatch(StartRun(request, ForwardingFuture(message.reply_to, answer)))
        return None
