"""AgentActor: runs prompts to a final answer — generate, call tools, feed results back, repeat.

Agents run as pools (see `actors.pool`): an LLM call blocks its actor for seconds, so one
actor per run would not scale and one actor per agent would serialise everything. Each actor
owns a provider client, a view of the tool registry and the middleware chain. Events are
buffered per step and written through the StoreActor; the caller's reply is settled by the
store only after the run's last event is durable.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

import pykka
from loguru import logger

from agentstage.actors.messages import RunAgent, RunResult
from agentstage.actors.run_log import RunLog
from agentstage.actors.store import Publish
from agentstage.actors.supervision import Slot, SupervisedActor
from agentstage.runtime.agents import AgentSpec
from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import (AgentstageError, MaxIterationsExceeded, NotFound, ProviderError, RunAborted,
                                       ToolError, TransientError)
from agentstage.runtime.llm.types import ChatMessage, LLMRequest, LLMResponse, Provider, ToolCall
from agentstage.runtime.middleware import Middleware, RunContext, ToolOutcome
from agentstage.runtime.state.records import Event, ToolEffect
from agentstage.runtime.tools.journal import EffectJournal, effect_key
from agentstage.runtime.tools.registry import ToolRegistry

__all__ = ["AgentActor", "StartRun"]


@dataclass(frozen=True, slots=True)
class StartRun:
    """Run `request`; `reply` receives the RunResult once it is durable."""

    request: RunAgent
    reply: pykka.Future[RunResult]


class AgentActor(SupervisedActor):
    """One member of an agent pool; handles one run at a time on its own thread."""

    def __init__(
        self,
        spec: AgentSpec,
        provider: Provider,
        tools: ToolRegistry,
        store: Slot,
        journal: EffectJournal | None,
        slot: Slot | None = None,
        on_idle: Any = None,
        observer: Slot | None = None,
        cancelled: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(slot)
        self.spec = spec
        self.provider = provider
        self.tools = tools
        self.store = store
        self.journal = journal
        self.middleware: tuple[Middleware, ...] = tuple(spec.middleware)
        self.on_idle = on_idle
        self.cancelled = cancelled
        self.observer = observer
        self._executor: ThreadPoolExecutor | None = None
        self._current: tuple[StartRun, RunLog] | None = None

    def on_start(self) -> None:
        workers = self.spec.max_parallel_tools if self.spec.parallel_tools else 1
        self._executor = ThreadPoolExecutor(max_workers=max(workers, 1), thread_name_prefix=f"tools-{self.spec.name}")

    def on_stop(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def receive(self, message: StartRun) -> None:
        if not isinstance(message, StartRun):
            raise TypeError(f"AgentActor cannot handle {type(message).__name__}")
        request = message.request
        log = RunLog(self.store, request.run_id, request.session_id, self.provider.name, first_seq=request.first_seq)
        self._current = (message, log)
        with logger.contextualize(run_id=request.run_id, session_id=request.session_id):
            try:
                result = self._run(request, log)
            except (AgentstageError, pykka.Timeout) as exc:
                result = self._fail(request, log, exc)
        self._current = None
        log.finish(message.reply, result)
        self._idle()

    def on_crash(self, message: Any, error: BaseException) -> None:
        current, self._current = self._current, None
        if current is None:
            return
        start, log = current
        logger.opt(exception=error).error("agent {} crashed in run {}", self.spec.name, start.request.run_id)
        result = self._fail(start.request, log, error, prefix="agent crashed: ")
        log.finish(start.reply, result)
        self._idle()

    def _idle(self) -> None:
        if self.on_idle is not None:
            self.on_idle()

    def _fail(self, request: RunAgent, log: RunLog, error: BaseException, prefix: str = "") -> RunResult:
        text = prefix + (str(error) if isinstance(error, AgentstageError) else repr(error))
        stage = ("max_iterations" if isinstance(error, MaxIterationsExceeded) else "generate"
                 if isinstance(error, ProviderError) else "middleware" if isinstance(error, RunAborted) else "run")
        self._notify_error(RunContext(request.run_id, request.session_id, self.spec.name, self.provider.name,
                                      log.iteration), stage, error, log)
        log.emit("run.failed", error=text, data={"error_type": type(error).__name__, "usage": log.usage_dict()})
        return RunResult(request.run_id, request.session_id, "failed", usage=log.usage, error=text,
                         events=tuple(log.events))

    def _cancel(self, request: RunAgent, log: RunLog) -> RunResult:
        """End the run at a step boundary because it was cancelled (cooperative cancellation)."""
        log.emit("run.cancelled", data={"iteration": log.iteration, "usage": log.usage_dict()})
        return RunResult(request.run_id, request.session_id, "cancelled", usage=log.usage, events=tuple(log.events))

    def _run(self, request: RunAgent, log: RunLog) -> RunResult:
        if not request.prompt.strip():
            raise RunAborted("the prompt is empty", request.run_id)
        log.emit("run.started", data={"input": request.prompt, "agent": self.spec.name, "kind": "agent",
                                      "model": self.spec.model or getattr(self.provider, "model", ""),
                                      "attempt": request.attempt, "metadata": request.metadata,
                                      "worker_id": request.metadata.get("worker_id")})
        messages = [*request.history, ChatMessage("user", request.prompt)]
        specs = tuple(tool.spec for tool in self.tools)
        for iteration in range(1, self.spec.max_iterations + 1):
            log.iteration = iteration
            if self.cancelled is not None and self.cancelled(request.run_id):
                return self._cancel(request, log)
            ctx = RunContext(request.run_id, request.session_id, self.spec.name, self.provider.name, iteration)
            llm_request = LLMRequest(tuple(messages), specs, self.spec.system_prompt, self.spec.model)
            response = self._generate(ctx, log, llm_request)
            messages.append(ChatMessage("assistant", response.content, response.tool_calls))
            if not response.tool_calls:
                log.emit("run.completed", data={"output": response.content, "usage": log.usage_dict()})
                return RunResult(request.run_id, request.session_id, "completed", response.content, log.usage,
                                 events=tuple(log.events))
            for call, outcome in zip(response.tool_calls, self._call_tools(ctx, log, response.tool_calls)):
                payload = outcome.result if outcome.ok else {"error": outcome.error}
                messages.append(ChatMessage("tool", json.dumps(payload, default=str), tool_call_id=call.id,
                                            name=call.name))
            log.flush()
        raise MaxIterationsExceeded(request.run_id, self.spec.max_iterations)

    def _generate(self, ctx: RunContext, log: RunLog, request: LLMRequest) -> LLMResponse:
        response = None
        for middleware in self.middleware:
            changed = self._hook(ctx, log, middleware, "before_generate", request)
            if isinstance(changed, LLMResponse):
                response = changed
                break
            if isinstance(changed, LLMRequest):
                request = changed
        log.emit("llm.request", data={"iteration": ctx.iteration, "messages": len(request.messages),
                                      "tools": [t.name for t in request.tools], "short_circuit": response is not None})
        log.flush()
        started = time.perf_counter()
        if response is None:
            attempts = itertools.count(1)
            try:
                response = self.spec.retry.call(
                    lambda: self._call_provider(request, log, next(attempts)),
                    sleep=time.sleep,
                    on_retry=lambda n, err, wait: log.emit(
                        "llm.retry", error=str(err), data={"attempt": n, "delay_s": round(wait, 3)}),
                )
            except ProviderError as exc:
                log.emit("llm.error", error=str(exc), duration_ms=_ms(started),
                         data={"error_type": type(exc).__name__, "status": exc.status})
                raise
        for middleware in reversed(self.middleware):
            changed = self._hook(ctx, log, middleware, "after_generate", request, response)
            if isinstance(changed, LLMResponse):
                response = changed
        log.add_usage(response.usage)
        log.emit("llm.response", duration_ms=_ms(started), data={
            "iteration": ctx.iteration, "model": response.model, "finish_reason": response.finish_reason,
            "content": response.content, "metadata": response.metadata,
            "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in response.tool_calls],
            "usage": {"input_tokens": response.usage.input_tokens, "output_tokens": response.usage.output_tokens},
        })
        return response

    def _call_provider(self, request: LLMRequest, log: RunLog, attempt: int) -> LLMResponse:
        """One provider call; when streaming, text deltas go live (not stored) to the observer as `llm.delta`.

        A retried stream restarts the turn from scratch; deltas carry `attempt` so a consumer can
        drop the partial text of a failed attempt.
        """
        if not self.spec.stream:
            return self.provider.generate(request)
        final = None
        for index, delta in enumerate(self.provider.stream(request)):
            if delta.text and self.observer is not None:
                # NOTE: deltas are never stored, so they take seq 0 (no durable event's key) and name the
                # durable event they follow in `after_seq`; resumable streams that dedupe on seq skip them.
                self.observer.tell(Publish((Event(
                    log.run_id, 0, "llm.delta", utc_now(), log.session_id,
                    {"text": delta.text, "attempt": attempt, "index": index, "after_seq": log.next_seq - 1},
                    log.node, None, log.provider),)))
            if delta.final is not None:
                final = delta.final
        if final is None:
            raise TransientError(self.provider.name, "stream ended without a final response")
        return final

    def _call_tools(self, ctx: RunContext, log: RunLog, calls: tuple[ToolCall, ...]) -> list[ToolOutcome]:
        prepared = []
        for call in calls:
            outcome = None
            for middleware in self.middleware:
                changed = self._hook(ctx, log, middleware, "before_tool", call)
                if isinstance(changed, ToolOutcome):
                    outcome = changed
                    break
                if isinstance(changed, ToolCall):
                    call = changed
            log.emit("tool.call", tool=call.name, data={"tool_call_id": call.id, "arguments": call.arguments,
                                                        "iteration": ctx.iteration})
            prepared.append((call, outcome))
        started = time.perf_counter()
        assert self._executor is not None
        futures = [None if outcome else self._executor.submit(self._invoke, ctx, call) for call, outcome in prepared]
        outcomes = []
        for (call, outcome), future in zip(prepared, futures):
            replayed = False
            if future is not None:
                outcome, replayed = self._await_tool(call, future)
            for middleware in reversed(self.middleware):
                changed = self._hook(ctx, log, middleware, "after_tool", call, outcome)
                if isinstance(changed, ToolOutcome):
                    outcome = changed
            if not outcome.ok:
                self._notify_error(ctx, "tool", ToolError(call.name, outcome.error or ""), log)
            log.emit("tool.result", tool=call.name, duration_ms=_ms(started), error=outcome.error,
                     data={"tool_call_id": call.id, "result": outcome.result, "replayed": replayed,
                           "status": "completed" if outcome.ok else "failed"})
            outcomes.append(outcome)
        return outcomes

    def _await_tool(self, call: ToolCall, future: Any) -> tuple[ToolOutcome, bool]:
        assert self._executor is not None
        timeout = self.spec.tool_timeout or None
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            # NOTE: a Python thread cannot be killed; give later calls fresh threads instead of queueing
            # them behind the stuck one.
            stuck, self._executor = self._executor, ThreadPoolExecutor(
                max_workers=stuck._max_workers, thread_name_prefix=f"tools-{self.spec.name}")
            stuck.shutdown(wait=False)
            return ToolOutcome(error=f"tool {call.name} timed out after {timeout}s"), False

    def _invoke(self, ctx: RunContext, call: ToolCall) -> tuple[ToolOutcome, bool]:
        """Run one tool call on a tool thread; failures become error outcomes, never exceptions."""
        try:
            tool = self.tools.get(call.name)
            key = effect_key(ctx.run_id, ctx.iteration, call.id)
            if tool.side_effects and self.journal is not None:
                done, result = self.journal.lookup(key)
                if done:
                    return ToolOutcome(result), True
            result = tool(call.arguments)
            if tool.side_effects and self.journal is not None:
                self.journal.record(ToolEffect(key, ctx.run_id, tool.name, result, utc_now()))
            return ToolOutcome(result), False
        except NotFound:
            return ToolOutcome(error=f"tool {call.name!r} not found"), False
        except ToolError as exc:
            return ToolOutcome(error=exc.message), False
        except Exception as exc:  # NOTE: tools are user code; their bugs go back to the model, not up the stack
            return ToolOutcome(error=f"{type(exc).__name__}: {exc}"), False

    def _hook(self, ctx: RunContext, log: RunLog, middleware: Middleware, hook: str, *args: Any) -> Any:
        try:
            return getattr(middleware, hook)(ctx, *args)
        except RunAborted as exc:
            raise RunAborted(exc.reason, ctx.run_id) from exc
        except Exception as exc:
            logger.opt(exception=exc).warning("middleware {} failed in {}", type(middleware).__name__, hook)
            log.emit("middleware.error", error=f"{type(exc).__name__}: {exc}",
                     data={"middleware": type(middleware).__name__, "hook": hook})
            return None

    def _notify_error(self, ctx: RunContext, stage: str, error: BaseException, log: RunLog) -> None:
        for middleware in self.middleware:
            try:
                middleware.on_error(ctx, stage, error)
            except Exception as exc:
                log.emit("middleware.error", error=f"{type(exc).__name__}: {exc}",
                         data={"middleware": type(middleware).__name__, "hook": "on_error"})


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
