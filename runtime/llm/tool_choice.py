"""Tool choice: whether a model call may, must or must not call a tool, or must call one named tool."""

from __future__ import annotations

from collections.abc import Iterable

from agentstage.runtime.llm.types import ChatMessage, LLMRequest

__all__ = ["KEYWORDS", "effective_choice", "is_forced", "turn_choice"]

KEYWORDS = ("auto", "required", "none")
"""Choices that are not a tool name."""


def effective_choice(request: LLMRequest) -> str | None:
    """The choice to send: None without tools (vendors reject a choice then), else the request's or `auto`.

    `auto` is sent explicitly because several OpenAI-compatible servers drop the tools without it.
    """
    if not request.tools:
        return None
    return request.tool_choice or "auto"


def is_forced(choice: str | None) -> bool:
    """Whether `choice` makes the model call a tool (`required` or a tool name)."""
    return bool(choice) and choice not in ("auto", "none")


def turn_choice(choice: str | None, messages: Iterable[ChatMessage]) -> str | None:
    """The choice of the next turn: a forced one holds until the model has called a tool, then `auto`.

    Like the OpenAI Agents SDK's reset, so a forced choice cannot loop forever.
    """
    if is_forced(choice) and any(m.role == "assistant" and m.tool_calls for m in messages):
        return "auto"
    return choice
