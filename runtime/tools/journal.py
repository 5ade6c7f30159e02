"""The effect journal interface: completed side-effecting tool calls by idempotency key."""

from __future__ import annotations

from typing import Any, Protocol

from agentstage.runtime.state.records import ToolEffect

__all__ = ["EffectJournal", "effect_key"]


def effect_key(run_id: str, step: int, tool_call_id: str) -> str:
    """The idempotency key of one tool call: `run_id:step:tool_call_id`."""
    return f"{run_id}:{step}:{tool_call_id}"


class EffectJournal(Protocol):
    """Where side-effecting tool calls are recorded so a retried run does not repeat them."""

    def lookup(self, key: str) -> tuple[bool, Any]:
        """`(True, result)` when the call with this key completed before, else `(False, None)`."""

    def record(self, effect: ToolEffect) -> None:
        """Record a completed call; returns only once the record is durable."""
