"""Agents calling agents: `ask_<agent>` runs another agent on a task and returns its answer (delegation),
`transfer_to_<agent>` hands the conversation to another agent, whose answer ends the run (a handoff).

The callee is a child run (`parent_run_id`), with its own events, its tokens rolled up into the caller,
and its own session. The tool is async: the caller's run waits as a message like any tool call, no
thread is held. It is journalled like a side effect, so a retried or resumed caller gets the child's
answer back instead of running the child again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any

from agentstage.runtime.errors import ToolError
from agentstage.runtime.llm.types import LLMRequest, LLMResponse
from agentstage.runtime.middleware import Middleware, RunContext
from agentstage.runtime.tools.registry import Tool

__all__ = ["HandoffMiddleware", "StartChild", "delegate_tool_name", "delegation_tools", "handoff_tool_name",
           "with_delegation"]

StartChild = Callable[[str, str, str, Callable[[Any, BaseException | None], None]], str]
"""`start(agent, prompt, parent_run_id, done)`: start a child run, return its id; `done(result, error)`
is called from any thread when it ends."""

_TASK = {"type": "object", "properties": {"task": {"type": "string", "minLength": 1, "maxLength": 20000,
                                                   "description": "what the other agent should do, in full"}},
         "required": ["task"], "additionalProperties": False}


def delegate_tool_name(agent: str) -> str:
    return f"ask_{agent}"


def handoff_tool_name(agent: str) -> str:
    return f"transfer_to_{agent}"


def delegation_tools(start: StartChild, delegates: Sequence[str], handoffs: Sequence[str]) -> list[Tool]:
    """The `ask_*` and `transfer_to_*` tools for an agent that may call `delegates` and hand off to `handoffs`."""
    tools = [_agent_tool(start, agent, delegate_tool_name(agent),
                         f"Ask agent {agent} to do a task and get its answer back") for agent in delegates]
    tools += [_agent_tool(start, agent, handoff_tool_name(agent),
                          f"Hand the conversation to agent {agent}: its answer becomes the final answer")
              for agent in handoffs]
    return tools


def _agent_tool(start: StartChild, agent: str, name: str, description: str) -> Tool:
    async def call(task: str, run_id: str) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()

        def done(result: Any, error: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle, answer, result, error)

        try:
            child = start(agent, task, run_id, done)
        except Exception as exc:  # NOTE: an unknown or stopped agent is the tool's error, for the model to read
            raise ToolError(name, f"cannot start agent {agent}: {exc}") from None
        result = await answer
        if not result.ok:
            raise ToolError(name, f"agent {agent} {result.status} (run {child}): {result.error}")
        return {"agent": agent, "run_id": child, "answer": result.output}

    return Tool(name, description, _TASK, call, side_effects=True, needs_run=True)


def _settle(answer: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if answer.done():
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(result)


class HandoffMiddleware(Middleware):
    """After a successful `transfer_to_*` call, the run ends with the other agent's answer (no more model turns)."""

    def __init__(self, handoffs: Sequence[str]) -> None:
        self.names = frozenset(handoff_tool_name(agent) for agent in handoffs)

    def before_generate(self, ctx: RunContext, request: LLMRequest) -> LLMResponse | None:
        last = request.messages[-1] if request.messages else None
        if last is None or last.role != "tool" or last.name not in self.names:
            return None
        try:
            payload = json.loads(last.content)
        except ValueError:
            return None
        if not isinstance(payload, dict) or "answer" not in payload:
            return None
        return LLMResponse(content=str(payload["answer"]), model=f"handoff:{payload.get('agent', '')}",
                           finish_reason="handoff", metadata={"handoff_run_id": payload.get("run_id")})


def with_delegation(spec: Any, start: StartChild) -> tuple[Any, list[Tool]]:
    """`spec` with its delegation tools selected and the handoff middleware added, and the tools to register."""
    tools = delegation_tools(start, spec.delegates, spec.handoffs)
    if not tools:
        return spec, []
    middleware = (*spec.middleware, HandoffMiddleware(spec.handoffs)) if spec.handoffs else tuple(spec.middleware)
    return dataclasses.replace(spec, tools=(*spec.tools, *(t.name for t in tools)), middleware=middleware), tools
