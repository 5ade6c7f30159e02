"""AgentActor: runs prompts to a final answer — generate, call tools, feed results back, repeat.

An agent actor holds many runs at once, as data (`actors.agent_run`), and never waits: it
starts a model call on the process's I/O loop (or a tool call on a tool thread) and goes on
with other messages; the answer, error or timeout comes back as a message and the run takes
its next step. Retries wait for a timer message. Pools of agent actors exist for CPU
parallelism and isolation, not for concurrency; in-flight runs are bounded by the pool's
admission limit. Events are buffered per step and written through the StoreActor; the
caller's reply is settled by the store only after the run's last event is durable.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pykka
from loguru import logger

from agentstage.actors.agent_run import AgentRun, RunsInHand, StartRun, ToolBatch
from agentstage.actors.agent_tools import invoke_tool, invoke_tool_async, is_async_tool, is_inline_tool
from agentstage.runtime.wire import RunAgent, RunResult
from agentstage.actors.run_log import RunLog
from agentstage.actors.store import Publish
from agentstage.actors.supervision import Slot, SupervisedActor
from agentstage.runtime.agents import AgentSpec
from agentstage.runtime.aio import IOLoop
from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import (AgentstageError, MaxIterationsExceeded, ProviderError, RunAborted, ToolError,
                                       TransientError)
from agentstage.runtime.llm.tool_choice import turn_choice
from agentstage.runtime.llm.types import ChatMessage, LLMRequest, LLMResponse, Provider, StreamDelta, ToolCall
from agentstage.runtime.guardrails.middleware import guardrail_middleware
from agentstage.runtime.middleware import Middleware, RunContext, ToolOutcome
from agentstage.runtime.state.records import Event
from agentstage.runtime.tools.journal import EffectJournal
from agentstage.runtime.tools.registry import ToolRegistry

__all__ = ["AgentActor", "CancelRun", "StartRun", "fence_of"]


@dataclass(frozen=True, slots=True)
class CancelRun:
    """Stop run `run_id` now if it waits on the model; at its next step boundary otherwise."""

    run_id: str


@dataclass(frozen=True, slots=True)
class _Generated:
    key: int
    token: int
    response: LLMResponse | None
    error: BaseException | None


@dataclass(frozen=True, slots=True)
class _RetryDue:
    key: int
    token: int


@dataclass(frozen=True, slots=True)
class _ToolDone:
    key: int
    token: int
    index: int
    outcome: ToolOutcome
    replayed: bool


@dataclass(frozen=True, slots=True)
class _ToolTimedOut:
    key: int
    token: int
    index: int


@dataclass(frozen=True, slots=True)
class _Continue:
    key: int
    token: int


_RUN_MESSAGES = (_Generated, _RetryDue, _ToolDone, _ToolTimedOut, _Continue)
_TURNS_PER_MESSAGE = 4
"""Turns a run takes in one handler when its answers come inline, before it lets other runs go first."""


class AgentActor(SupervisedActor):
    """One member of an agent pool; many runs in hand, one message at a time on its own thread."""

    def __init__(
        self,
        spec: AgentSpec,
        provider: Provider,
        tools: ToolRegistry,
        store: Slot,
        journal: EffectJournal | None,
        io: IOLoop,
        runs: RunsInHand,
        slot: Slot | None = None,
        on_idle: Callable[[], None] | None = None,
        observer: Slot | None = None,
        cancelled: Callable[[str, int], bool] | None = None,
        owner: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(slot)
        self.owner = dict(owner) if owner is not None else None
        self.spec = spec
        self.provider = provider
        self.tools = tools
        self.store = store
        self.journal = journal
        self.io = io
        self.hand = runs
        self.middleware: tuple[Middleware, ...] = (*guardrail_middleware(spec.guardrails), *spec.middleware)
        self.on_idle = on_idle
        self.cancelled = cancelled
        self.observer = observer

    @classmethod
    def member(cls, spec: AgentSpec, provider: Provider, tools: ToolRegistry, store: Slot,
               journal: EffectJournal | None, io: IOLoop, *, observer: Slot | None = None,
               cancelled: Callable[[str, int], bool] | None = None, tool_threads: int = 16,
               owner: Mapping[str, Any] | None = None) -> Callable[[Slot, Callable[[], None]], pykka.ActorRef[Any]]:
        """An `AgentPool` factory: each member keeps one table of runs across its restarts.

        `owner` (the process, see `RunOwner`) goes into each `run.started`, so a later System can tell a
        run whose process died; workers leave it out (the coordinator reconciles their runs).
        """
        tables: dict[str, RunsInHand] = {}

        def start(slot: Slot, on_idle: Callable[[], None]) -> pykka.ActorRef[Any]:
            runs = tables.setdefault(slot.name, RunsInHand(slot.name, tool_threads))
            return cls.start(spec, provider, tools, store, journal, io, runs, slot, on_idle, observer, cancelled,
                             owner)

        return start

    # -- messages ---------------------------------------------------------------------------------

    def receive(self, message: Any) -> None:
        with self.hand.lock:
            if isinstance(message, StartRun):
                self._start_run(message)
            elif isinstance(message, _RUN_MESSAGES):
                run = self.hand.runs.get(message.key)
                if run is not None and message.token == run.token:
                    self._advance(run, message)
            elif isinstance(message, CancelRun):
                for run in [r for r in self.hand.runs.values() if r.run_id == message.run_id]:
                    self._step(run, self._cancel_requested)
            else:
                raise TypeError(f"AgentActor cannot handle {type(message).__name__}")

    def on_crash(self, message: Any, error: BaseException) -> None:
        with self.hand.lock:
            if isinstance(message, StartRun):
                run = next((r for r in self.hand.runs.values() if r.start is message), None)
            else:
                run = self.hand.runs.get(getattr(message, "key", None))
            if run is None:
                return
            logger.opt(exception=error).error("agent {} crashed in run {}", self.spec.name, run.run_id)
            self._fail(run, error, prefix="agent crashed: ")

    def on_stop(self) -> None:
        if self.slot is not None and not self.slot.stopping:
            return
        with self.hand.lock:
            for run in list(self.hand.runs.values()):
                if run.pending is not None:
                    run.pending.cancel()
                self._end(run, "cancelled", data={"reason": "the runtime stopped before the run finished"})
            self.hand.close()

    def _tell(self, message: Any) -> None:
        """Send a run's answer to this member (its successor after a crash), from any thread."""
        try:
            (self.slot if self.slot is not None else self.actor_ref).tell(message)
        except pykka.ActorDeadError:
            logger.debug("answer {} dropped: its agent stopped", type(message).__name__)

    def _step(self, run: AgentRun, action: Callable[..., None], *args: Any) -> None:
        """Take one step of `run`; a typed failure ends the run, anything else crashes the actor."""
        with logger.contextualize(run_id=run.run_id, session_id=run.request.session_id):
            try:
                action(run, *args)
            except (AgentstageError, pykka.Timeout) as exc:
                self._fail(run, exc)

    def _advance(self, run: AgentRun, message: Any) -> None:
        run.turns = 0
        if isinstance(message, _Generated):
            self._step(run, self._generated, message.response, message.error)
        elif isinstance(message, _RetryDue):
            self._step(run, self._call_provider)
        elif isinstance(message, _ToolDone):
            self._step(run, self._tool_done, message.index, message.outcome, message.replayed)
        elif isinstance(message, _ToolTimedOut):
            self._step(run, self._tool_timed_out, message.index)
        elif isinstance(message, _Continue):
            self._step(run, self._iterate)

    # -- the loop ---------------------------------------------------------------------------------

    def _start_run(self, start: StartRun) -> None:
        request = start.request
        log = RunLog(self.store, request.run_id, request.session_id, self.provider.name, first_seq=request.first_seq,
                     fence=fence_of(request))
        run = AgentRun(start, log, [*request.history, ChatMessage("user", request.prompt)],
                       tuple(tool.spec for tool in self.tools), key=self.hand.next_key())
        self.hand.runs[run.key] = run
        self._step(run, self._open)

    def _open(self, run: AgentRun) -> None:
        request = run.request
        if not request.prompt.strip():
            raise RunAborted("the prompt is empty", request.run_id)
        if self.cancelled is not None and self.cancelled(request.run_id, request.attempt):
            self._end(run, "cancelled", data={"reason": "cancelled before it started"})
            return
        run.log.emit("run.started", data={"input": request.prompt, "agent": self.spec.name, "kind": "agent",
                                          "model": self.spec.model or getattr(self.provider, "model", ""),
                                          "attempt": request.attempt, "metadata": request.metadata,
                                          "worker_id": request.metadata.get("worker_id"),
                                          **({"parent_run_id": parent} if (parent := request.metadata.get(
                                              "parent_run_id")) else {}),
                                          **({"owner": self.owner} if self.owner is not None else {})})
        self._iterate(run)

    def _iterate(self, run: AgentRun) -> None:
        """Begin the next turn: cancel and limit checks, before_generate hooks, then the model call."""
        if run.turns >= _TURNS_PER_MESSAGE:
            token, key = run.wait(), run.key
            self._tell(_Continue(key, token))
            return
        run.turns += 1
        log = run.log
        if run.cancel_requested or (self.cancelled is not None and self.cancelled(run.run_id, run.request.attempt)):
            self._end(run, "cancelled", data={"iteration": log.iteration})
            return
        if log.iteration >= self.spec.max_iterations:
            raise MaxIterationsExceeded(run.run_id, self.spec.max_iterations)
        log.iteration += 1
        run.ctx = ctx = RunContext(run.run_id, run.request.session_id, self.spec.name, self.provider.name,
                                   log.iteration, log.emit, run.request.attempt)
        request = LLMRequest(tuple(run.messages), run.specs, self.spec.system_prompt, self.spec.model,
                             max_output_tokens=self.spec.max_output_tokens,
                             tool_choice=turn_choice(self.spec.tool_choice, run.messages))
        response = None
        for middleware in self.middleware:
            changed = self._hook(run, middleware, "before_generate", request)
            if isinstance(changed, LLMResponse):
                response = changed
                break
            if isinstance(changed, LLMRequest):
                request = changed
        run.llm_request = request
        log.emit("llm.request", data={"iteration": ctx.iteration, "messages": len(request.messages),
                                      "tools": [t.name for t in request.tools], "short_circuit": response is not None})
        if response is None and not self.provider.inline:
            # NOTE: durable while the run waits on the model; an inline answer comes before any wait.
            log.flush()
        run.step_started = time.perf_counter()
        run.attempt = 0
        if response is not None:
            self._respond(run, response)
        else:
            self._call_provider(run)

    def _call_provider(self, run: AgentRun) -> None:
        """Start attempt n of the model call; the answer arrives as `_Generated`."""
        run.attempt += 1
        token = run.wait()
        request, attempt = run.llm_request, run.attempt
        assert request is not None
        if self.provider.inline:
            try:
                response = self._generate_inline(run, request, attempt)
            except Exception as exc:
                self._generated(run, None, exc)
            else:
                self._generated(run, response, None)
            return
        publish = self._delta_publisher(run, attempt) if self.spec.stream else None
        # PERF: a plain call is the provider's own coroutine: a wrapper's frame stayed allocated for each call in flight
        call = self.provider.agenerate(request) if publish is None else _streamed(self.provider, request, publish)
        run.pending = self.io.call(call, functools.partial(self._answer_generated, run.key, token))

    def _answer_generated(self, key: int, token: int, response: LLMResponse | None,
                          error: BaseException | None) -> None:
        """A model call ended (on the I/O loop): its answer comes to this actor as a message."""
        self._tell(_Generated(key, token, response, error))

    def _generate_inline(self, run: AgentRun, request: LLMRequest, attempt: int) -> LLMResponse:
        if not self.spec.stream:
            return self.provider.generate(request)
        publish = self._delta_publisher(run, attempt)
        final = None
        for delta in self.provider.stream(request):
            final = publish(delta) or final
        if final is None:
            raise TransientError(self.provider.name, "stream ended without a final response")
        return final

    def _delta_publisher(self, run: AgentRun, attempt: int) -> Callable[[StreamDelta], LLMResponse | None]:
        """Text deltas go live (never stored) to the observer as `llm.delta`; returns the final response.

        A retried stream restarts the turn from scratch; deltas carry `attempt` so a consumer can
        drop the partial text of a failed attempt.
        """
        log, observer = run.log, self.observer
        # NOTE: deltas are never stored, so they take seq 0 (no durable event's key) and name the durable
        # event they follow in `after_seq`; resumable streams that dedupe on seq skip them.
        after_seq, index = log.next_seq - 1, [0]

        def publish(delta: StreamDelta) -> LLMResponse | None:
            if delta.text and observer is not None:
                observer.tell(Publish((Event(
                    log.run_id, 0, "llm.delta", utc_now(), log.session_id,
                    {"text": delta.text, "attempt": attempt, "index": index[0], "after_seq": after_seq},
                    log.node, None, log.provider),)))
            index[0] += 1
            return delta.final

        return publish

    def _generated(self, run: AgentRun, response: LLMResponse | None, error: BaseException | None) -> None:
        run.pending = None
        if error is None:
            assert response is not None
            self._respond(run, response)
            return
        if not isinstance(error, Exception) or not isinstance(error, AgentstageError):
            raise error
        retry = self.spec.retry
        spent = self._spent(run, error) if isinstance(error, ProviderError) else {}
        if isinstance(error, ProviderError) and retry.retryable(error) and run.attempt < retry.max_attempts:
            wait = retry.delay(run.attempt, error)
            run.log.emit("llm.retry", error=str(error), data={"attempt": run.attempt, "delay_s": round(wait, 3),
                                                              **spent})
            run.log.flush()
            token, key = run.wait(), run.key
            self.io.call_later(wait, lambda: self._tell(_RetryDue(key, token)))
            return
        if isinstance(error, ProviderError):
            run.log.emit("llm.error", error=str(error), duration_ms=_ms(run.step_started),
                         data={"error_type": type(error).__name__, "status": error.status, **spent})
        raise error

    @staticmethod
    def _spent(run: AgentRun, error: ProviderError) -> dict[str, Any]:
        """The tokens a failed call's server reported, counted on the run and recorded on its retry/error event.

        NOTE: the store adds the `usage` of `llm.retry` and `llm.error` events to the run (and its parent
        graph run) like that of `llm.response`, so a retried attempt's tokens are not lost.
        """
        if error.usage is None:
            return {}
        run.log.add_usage(error.usage)
        return {"usage": error.usage.call_view(), **_parent_of(run)}

    def _respond(self, run: AgentRun, response: LLMResponse) -> None:
        """The turn's answer is in: after_generate hooks, then finish or call the tools."""
        log, ctx, request = run.log, run.ctx, run.llm_request
        assert ctx is not None and request is not None
        for middleware in reversed(self.middleware):
            changed = self._hook(run, middleware, "after_generate", request, response)
            if isinstance(changed, LLMResponse):
                response = changed
        log.add_usage(response.usage)
        log.emit("llm.response", duration_ms=_ms(run.step_started), data={
            "iteration": ctx.iteration, "model": response.model, "finish_reason": response.finish_reason,
            "content": response.content, "metadata": response.metadata,
            "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in response.tool_calls],
            "usage": response.usage.call_view(), **_parent_of(run),
        })
        run.messages.append(ChatMessage("assistant", response.content, response.tool_calls))
        if not response.tool_calls:
            if response.truncated:
                log.emit("llm.truncated", data={"iteration": ctx.iteration, "finish_reason": response.finish_reason,
                                                "warning": "the answer was cut by the output token limit"})
            self._end(run, "completed", output=response.content,
                      data={"truncated": True} if response.truncated else None)
            return
        self._start_tools(run, response)

    def _start_tools(self, run: AgentRun, response: LLMResponse) -> None:
        log, ctx = run.log, run.ctx
        assert ctx is not None
        calls, outcomes = [], []
        for call in response.tool_calls:
            outcome = None
            for middleware in self.middleware:
                changed = self._hook(run, middleware, "before_tool", call)
                if isinstance(changed, ToolOutcome):
                    outcome = changed
                    break
                if isinstance(changed, ToolCall):
                    call = changed
            log.emit("tool.call", tool=call.name, data={"tool_call_id": call.id, "arguments": call.arguments,
                                                        "iteration": ctx.iteration})
            calls.append(call)
            outcomes.append(outcome)
        if any(outcome is None and not is_inline_tool(self.tools, call.name) for call, outcome in zip(calls, outcomes)):
            # NOTE: durable while the run waits on its tools; inline tools answer before any wait.
            log.flush()
        count = len(calls)
        run.batch = ToolBatch(calls, outcomes, [False] * count, [0.0] * count, time.perf_counter())
        run.wait()
        self._submit_tools(run)

    def _submit_tools(self, run: AgentRun) -> None:
        """Start the batch's next calls: all of them in parallel mode, else one after another."""
        batch = run.batch
        assert batch is not None and run.ctx is not None
        limit = self.spec.max_parallel_tools if self.spec.parallel_tools else 1
        while batch.submitted < len(batch.calls) and batch.waiting < max(limit, 1):
            index = batch.submitted
            batch.submitted += 1
            if batch.outcomes[index] is not None:
                continue
            call = batch.calls[index]
            if is_inline_tool(self.tools, call.name):
                outcome, replayed = invoke_tool(self.tools, self.journal, run.ctx, call.id, call.name, call.arguments)
                batch.outcomes[index], batch.replayed[index] = outcome, replayed
                batch.durations[index] = _ms(batch.started)
                continue
            batch.waiting += 1
            self._submit_tool(run, index)
        if batch.waiting == 0 and batch.complete:
            self._tools_finished(run)

    def _submit_tool(self, run: AgentRun, index: int) -> None:
        call, ctx, token, key = run.batch.calls[index], run.ctx, run.token, run.key
        def answered(result: tuple[ToolOutcome, bool] | None, error: BaseException | None) -> None:
            outcome, replayed = (ToolOutcome(error=f"{type(error).__name__}: {error}"), False) if result is None else result
            self._tell(_ToolDone(key, token, index, outcome, replayed))

        if is_async_tool(self.tools, call.name):
            self.io.call(invoke_tool_async(self.tools, self.journal, ctx, call.id, call.name, call.arguments), answered)
        else:
            future = self.hand.tool_executor().submit(invoke_tool, self.tools, self.journal, ctx, call.id,
                                                      call.name, call.arguments)
            future.add_done_callback(lambda done: None if done.cancelled() else answered(done.result(), None))
        if self.spec.tool_timeout:
            run.batch.deadlines[index] = self.io.after(self.spec.tool_timeout,
                                                       lambda: self._tell(_ToolTimedOut(key, token, index)))

    def _tool_done(self, run: AgentRun, index: int, outcome: ToolOutcome, replayed: bool) -> None:
        batch = run.batch
        if batch is None or batch.outcomes[index] is not None:
            return
        batch.outcomes[index], batch.replayed[index] = outcome, replayed
        batch.durations[index] = _ms(batch.started)
        batch.waiting -= 1
        deadline = batch.deadlines.pop(index, None)
        if deadline is not None:
            deadline.cancel()
        self._submit_tools(run)

    def _tool_timed_out(self, run: AgentRun, index: int) -> None:
        batch = run.batch
        if batch is None or batch.outcomes[index] is not None:
            return
        if not is_async_tool(self.tools, batch.calls[index].name):
            self.hand.replace_executor()
        outcome = ToolOutcome(error=f"tool {batch.calls[index].name} timed out after {self.spec.tool_timeout}s")
        self._tool_done(run, index, outcome, False)

    def _tools_finished(self, run: AgentRun) -> None:
        """Every call of the turn has its outcome: after_tool hooks and results in call order, next turn."""
        batch, log, ctx = run.batch, run.log, run.ctx
        assert batch is not None and ctx is not None
        run.batch = None
        for index, call in enumerate(batch.calls):
            outcome = batch.outcomes[index]
            assert outcome is not None
            for middleware in reversed(self.middleware):
                changed = self._hook(run, middleware, "after_tool", call, outcome)
                if isinstance(changed, ToolOutcome):
                    outcome = changed
            if not outcome.ok:
                self._notify_error(run, "tool", ToolError(call.name, outcome.error or ""))
            log.emit("tool.result", tool=call.name, duration_ms=batch.durations[index] or _ms(batch.started),
                     error=outcome.error, data={"tool_call_id": call.id, "result": outcome.result,
                                                "replayed": batch.replayed[index],
                                                "status": "completed" if outcome.ok else "failed"})
            payload = outcome.result if outcome.ok else {"error": outcome.error}
            run.messages.append(ChatMessage("tool", json.dumps(payload, default=str), tool_call_id=call.id,
                                            name=call.name))
        # NOTE: no flush here: the next turn flushes before it waits on the model, or the run ends.
        self._iterate(run)

    def _cancel_requested(self, run: AgentRun) -> None:
        run.cancel_requested = True
        if run.batch is None:
            if run.pending is not None:
                run.pending.cancel()
            self._end(run, "cancelled", data={"iteration": run.log.iteration})

    # -- endings ----------------------------------------------------------------------------------

    def _end(self, run: AgentRun, status: str, *, output: str = "", data: dict[str, Any] | None = None) -> None:
        log = run.log
        log.emit(f"run.{status}", data={**({"output": output} if status == "completed" else {}), **(data or {}),
                                        "usage": log.usage_dict()})
        self._finish(run, RunResult(run.run_id, run.request.session_id, status, output, log.usage,
                                    events=tuple(log.events), truncated=bool((data or {}).get("truncated"))))

    def _fail(self, run: AgentRun, error: BaseException, prefix: str = "") -> None:
        log = run.log
        text = prefix + (str(error) if isinstance(error, AgentstageError) else repr(error))
        stage = ("max_iterations" if isinstance(error, MaxIterationsExceeded) else "generate"
                 if isinstance(error, ProviderError) else "middleware" if isinstance(error, RunAborted) else "run")
        self._notify_error(run, stage, error)
        log.emit("run.failed", error=text, data={"error_type": type(error).__name__, "usage": log.usage_dict()})
        self._finish(run, RunResult(run.run_id, run.request.session_id, "failed", usage=log.usage, error=text,
                                    events=tuple(log.events), error_type=type(error).__name__))

    def _finish(self, run: AgentRun, result: RunResult) -> None:
        run.wait()
        if run.batch is not None:
            for deadline in run.batch.deadlines.values():
                deadline.cancel()
        self.hand.runs.pop(run.key, None)
        run.log.finish(run.start.reply, result)
        if self.on_idle is not None:
            self.on_idle()

    # -- middleware -------------------------------------------------------------------------------

    def _hook(self, run: AgentRun, middleware: Middleware, hook: str, *args: Any) -> Any:
        try:
            return getattr(middleware, hook)(run.ctx, *args)
        except RunAborted as exc:
            raise RunAborted(exc.reason, run.run_id) from exc
        except Exception as exc:
            logger.opt(exception=exc).warning("middleware {} failed in {}", type(middleware).__name__, hook)
            run.log.emit("middleware.error", error=f"{type(exc).__name__}: {exc}",
                         data={"middleware": type(middleware).__name__, "hook": hook})
            return None

    def _notify_error(self, run: AgentRun, stage: str, error: BaseException) -> None:
        ctx = run.ctx or RunContext(run.run_id, run.request.session_id, self.spec.name, self.provider.name,
                                    run.log.iteration, run.log.emit, run.request.attempt)
        for middleware in self.middleware:
            try:
                middleware.on_error(ctx, stage, error)
            except Exception as exc:
                run.log.emit("middleware.error", error=f"{type(exc).__name__}: {exc}",
                             data={"middleware": type(middleware).__name__, "hook": "on_error"})


async def _streamed(provider: Provider, request: LLMRequest,
                    publish: Callable[[StreamDelta], LLMResponse | None]) -> LLMResponse:
    """One streamed model call on the I/O loop, each delta published as it arrives."""
    final = None
    async for delta in provider.astream(request):
        final = publish(delta) or final
    if final is None:
        raise TransientError(provider.name, "stream ended without a final response")
    return final


def fence_of(request: RunAgent) -> tuple[str, int]:
    """The task attempt a run's records belong to: its own, or for a child run (of a graph node, or delegated
    on a worker) the attempt of the task it runs under (`task_run_id`, else its parent)."""
    parent = request.metadata.get("task_run_id") or request.metadata.get("parent_run_id")
    if isinstance(parent, str) and parent:
        attempt = request.metadata.get("parent_attempt")
        return parent, attempt if isinstance(attempt, int) else 0
    return request.run_id, request.attempt


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _parent_of(run: AgentRun) -> dict[str, str]:
    """The `parent_run_id` field of a usage-carrying event: a child run's tokens count for its graph run too."""
    parent = run.request.metadata.get("parent_run_id")
    return {"parent_run_id": parent} if parent else {}
