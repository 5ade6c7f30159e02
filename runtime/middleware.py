"""Agent middleware: hooks around each LLM call and tool call, no-ops unless overridden.

`before_*` hooks run in registration order and `after_*` hooks in reverse (an onion), so the
first middleware sees the request first and the response last. A hook returns None to leave
things unchanged, a replacement to change them, or — in `before_generate` / `before_tool` —
a response / result to short-circuit the call. Raising `RunAborted` stops the run on purpose;
any other exception from a hook is logged and reported as an event, never fatal.
All hooks run on the agent actor's thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentstage.runtime.llm.types import LLMRequest, LLMResponse, ToolCall

__all__ = ["Middleware", "RunContext", "ToolOutcome"]


@dataclass(frozen=True, slots=True)
class RunContext:
    """Who is running: passed to every hook."""

    run_id: str
    session_id: str
    agent: str
    provider: str
    iteration: int
    emit: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    """Records a run event: `emit(type, data={...}, tool=None)` (how a middleware reports its decisions)."""
    attempt: int = 0
    """The run's attempt (retries on workers count up); effect journal entries carry it."""


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """What a tool call produced: `result` (JSON-able) or an `error` message."""

    result: object = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Middleware:
    """Base class: override only the hooks you need."""

    def before_generate(self, ctx: RunContext, request: LLMRequest) -> LLMRequest | LLMResponse | None:
        """Change the request (return a new one) or answer it yourself (return a response)."""
        return None

    def after_generate(self, ctx: RunContext, request: LLMRequest, response: LLMResponse) -> LLMResponse | None:
        """Change the provider's response by returning a new one."""
        return None

    def before_tool(self, ctx: RunContext, call: ToolCall) -> ToolCall | ToolOutcome | None:
        """Rewrite the call (return a ToolCall) or skip it with a result (return a ToolOutcome)."""
        return None

    def after_tool(self, ctx: RunContext, call: ToolCall, outcome: ToolOutcome) -> ToolOutcome | None:
        """Replace the tool's outcome by returning a new one."""
        return None

    def on_error(self, ctx: RunContext, stage: str, error: BaseException) -> None:
        """Observe a failure at `stage` (generate, tool, middleware, max_iterations)."""
        return None
