"""Guardrails as agent middleware: every input message the model is about to see, its answer, and each tool
call before the tool runs, go through the guards in order. The first block stops (the run for input and
output, the call for a tool), warns are reported and go on, redactions rewrite the text for later guards.

Each decision is a run event: `guardrail.blocked`, `guardrail.warned` or `guardrail.redacted`, naming the
guard, the direction and the reason (never the text that was caught).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from agentstage.runtime.errors import RunAborted
from agentstage.runtime.guardrails.builtin import parse_guards
from agentstage.runtime.guardrails.guard import Finding, Guard
from agentstage.runtime.llm.types import LLMRequest, LLMResponse, ToolCall
from agentstage.runtime.middleware import Middleware, RunContext, ToolOutcome

__all__ = ["GuardrailMiddleware", "guardrail_middleware"]

_CHECKED_ROLES = ("user", "tool")


class _Blocked(Exception):
    def __init__(self, guard: Guard, finding: Finding) -> None:
        super().__init__(finding.reason)
        self.guard = guard
        self.finding = finding


class GuardrailMiddleware(Middleware):
    """Runs `guards` on input (user messages and tool results, not only the last one), output and tool calls."""

    def __init__(self, guards: Sequence[Guard]) -> None:
        self.guards = tuple(guards)

    def before_generate(self, ctx: RunContext, request: LLMRequest) -> LLMRequest | None:
        """Check every user message and tool result; report only what is new since the model last answered."""
        messages = list(request.messages)
        changed = False
        last_answer = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=-1)
        for index, message in enumerate(messages):
            if message.role not in _CHECKED_ROLES or not message.content:
                continue
            where = {"message": index, "role": message.role}
            try:
                text = self._check(ctx, "input", message.content, where, report=index > last_answer)
            except _Blocked as blocked:
                raise RunAborted(f"guardrail {blocked.guard.name} blocked the input "
                                 f"({message.role} message {index}): {blocked.finding.reason}") from None
            if text != message.content:
                messages[index] = dataclasses.replace(message, content=text)
                changed = True
        return dataclasses.replace(request, messages=tuple(messages)) if changed else None

    def after_generate(self, ctx: RunContext, request: LLMRequest, response: LLMResponse) -> LLMResponse | None:
        """Check the answer; redact tool-call arguments here already, so a caught secret is never recorded."""
        try:
            text = self._check(ctx, "output", response.content, {}, report=True) if response.content else ""
        except _Blocked as blocked:
            raise RunAborted(f"guardrail {blocked.guard.name} blocked the answer: {blocked.finding.reason}") from None
        calls = tuple(dataclasses.replace(c, arguments=self._check_value(ctx, c.arguments, c.name, redact_only=True))
                      for c in response.tool_calls)
        if text == response.content and calls == response.tool_calls:
            return None
        return dataclasses.replace(response, content=text, tool_calls=calls)

    def before_tool(self, ctx: RunContext, call: ToolCall) -> ToolCall | ToolOutcome | None:
        """Before the tool runs: its name against tool guards, then each string argument."""
        try:
            for guard in self._guards("tool"):
                finding = guard.inspect_tool(call.name)
                if finding is not None:
                    self._decide(ctx, guard, finding, "tool", {"tool": call.name}, report=True)
            arguments = self._check_value(ctx, call.arguments, call.name)
        except _Blocked as blocked:
            return ToolOutcome(error=f"blocked by guardrail {blocked.guard.name}: {blocked.finding.reason}")
        if arguments == call.arguments:
            return None
        return dataclasses.replace(call, arguments=arguments)

    def _check_value(self, ctx: RunContext, value: Any, tool: str, *, redact_only: bool = False) -> Any:
        """Every string inside a tool call's arguments, checked as the tool direction."""
        if isinstance(value, str):
            return self._check(ctx, "tool", value, {"tool": tool}, report=True, redact_only=redact_only)
        if isinstance(value, dict):
            return {k: self._check_value(ctx, v, tool, redact_only=redact_only) for k, v in value.items()}
        if isinstance(value, list):
            return [self._check_value(ctx, v, tool, redact_only=redact_only) for v in value]
        return value

    def _check(self, ctx: RunContext, direction: str, text: str, where: dict[str, Any], *, report: bool,
               redact_only: bool = False) -> str:
        for guard in self._guards(direction):
            if redact_only and guard.action != "redact":
                continue
            finding = guard.inspect(text)
            if finding is not None:
                text = self._decide(ctx, guard, finding, direction, where, report=report, text=text)
        return text

    def _decide(self, ctx: RunContext, guard: Guard, finding: Finding, direction: str, where: dict[str, Any], *,
                report: bool, text: str = "") -> str:
        """Act on one finding: raise for block, report, and give the text to go on with."""
        outcome = {"block": "blocked", "warn": "warned", "redact": "redacted"}[guard.action]
        if report or guard.action == "block":
            _emit(ctx, f"guardrail.{outcome}", {"guardrail": guard.name, "action": guard.action,
                                                "direction": direction, "reason": finding.reason, **where},
                  tool=where.get("tool"))
        if guard.action == "block":
            raise _Blocked(guard, finding)
        if guard.action == "redact" and finding.redacted is not None:
            return finding.redacted
        return text

    def _guards(self, direction: str) -> Iterable[Guard]:
        return (guard for guard in self.guards if guard.applies_to(direction))


def _emit(ctx: RunContext, type: str, data: dict[str, Any], tool: str | None) -> None:
    if ctx.emit is not None:
        ctx.emit(type, data=data, tool=tool)


def guardrail_middleware(settings: Sequence[str]) -> tuple[Middleware, ...]:
    """The middleware for an agent's guardrail settings (none when there are none)."""
    guards = parse_guards(settings)
    return (GuardrailMiddleware(guards),) if guards else ()
