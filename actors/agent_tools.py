"""Running one tool call for an agent run: the effect journal around it, failures as outcomes.

Called off the agent actor's thread (a tool thread, or the I/O loop for async tools), and the
outcome goes back to the actor as a message; inline tools (pure, bounded) are called on the
actor's own thread.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import NotFound, ToolError
from agentstage.runtime.middleware import RunContext, ToolOutcome
from agentstage.runtime.state.records import ToolEffect
from agentstage.runtime.tools.journal import EffectJournal, effect_key
from agentstage.runtime.tools.registry import Tool, ToolRegistry

__all__ = ["invoke_tool", "invoke_tool_async", "is_async_tool", "is_inline_tool"]


def is_async_tool(tools: ToolRegistry, name: str) -> bool:
    """Whether the tool `name` is a coroutine function (it then runs on the I/O loop)."""
    try:
        return inspect.iscoroutinefunction(tools.get(name).func)
    except NotFound:
        return False


def is_inline_tool(tools: ToolRegistry, name: str) -> bool:
    """Whether the tool `name` is pure and bounded (`Tool.inline`): it then runs on the agent's thread."""
    tool = tools.get(name) if name in tools else None
    return tool is not None and tool.inline


def invoke_tool(tools: ToolRegistry, journal: EffectJournal | None, ctx: RunContext,
                call_id: str, name: str, arguments: dict[str, Any]) -> tuple[ToolOutcome, bool]:
    """Run a synchronous tool call; returns (outcome, replayed from the journal)."""
    try:
        tool = tools.get(name)
        key = effect_key(ctx.run_id, ctx.iteration, call_id)
        if tool.side_effects and journal is not None:
            done, result = journal.lookup(key, ctx.attempt)
            if done:
                return ToolOutcome(result), True
        result = tool(arguments)
        if tool.side_effects and journal is not None:
            journal.record(ToolEffect(key, ctx.run_id, tool.name, result, utc_now()), ctx.attempt)
        return ToolOutcome(result), False
    except Exception as exc:
        return _failure(name, exc), False


async def invoke_tool_async(tools: ToolRegistry, journal: EffectJournal | None, ctx: RunContext,
                            call_id: str, name: str, arguments: dict[str, Any]) -> tuple[ToolOutcome, bool]:
    """Run an async tool call on the I/O loop; journal reads and writes go to the loop's executor."""
    loop = asyncio.get_running_loop()
    try:
        tool: Tool = tools.get(name)
        key = effect_key(ctx.run_id, ctx.iteration, call_id)
        journalled = tool.side_effects and journal is not None
        if journalled:
            done, result = await loop.run_in_executor(None, journal.lookup, key, ctx.attempt)
            if done:
                return ToolOutcome(result), True
        result = await tool(arguments)
        if journalled:
            effect = ToolEffect(key, ctx.run_id, tool.name, result, utc_now())
            await loop.run_in_executor(None, journal.record, effect, ctx.attempt)
        return ToolOutcome(result), False
    except Exception as exc:
        return _failure(name, exc), False


def _failure(name: str, exc: Exception) -> ToolOutcome:
    # NOTE: tools are user code; their bugs go back to the model, not up the stack.
    if isinstance(exc, NotFound):
        return ToolOutcome(error=f"tool {name!r} not found")
    if isinstance(exc, ToolError):
        return ToolOutcome(error=exc.message)
    return ToolOutcome(error=f"{type(exc).__name__}: {exc}")
