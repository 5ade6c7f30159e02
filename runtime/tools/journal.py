"""The effect journal interface: side-effecting tool calls by idempotency key, at most once.

`lookup` is called right before a side-effecting call runs and marks it started (an intent);
`record` stores its outcome. A call that was started by another process and has no outcome (that
process died during the call) is never run again: `lookup` answers it as done with `INTERRUPTED`,
so the model is told the outcome is unknown.
"""

from __future__ import annotations

from typing import Any, Protocol

from agentstage.runtime.state.records import ToolEffect

__all__ = ["INTERRUPTED", "EffectJournal", "effect_key", "run_of_key"]

INTERRUPTED = ("outcome unknown: an earlier attempt was interrupted during this side-effecting call,"
               " so it is not repeated")


def effect_key(run_id: str, step: int, tool_call_id: str) -> str:
    """The idempotency key of one tool call: `run_id:step:tool_call_id`."""
    return f"{run_id}:{step}:{tool_call_id}"


def run_of_key(key: str) -> str:
    """The run id inside an idempotency key made by `effect_key`."""
    return key.rsplit(":", 2)[0]


class EffectJournal(Protocol):
    """Where side-effecting tool calls are recorded so a retried run does not repeat them."""

    def lookup(self, key: str, attempt: int = 0) -> tuple[bool, Any]:
        """Call right before running the call: `(True, result)` when it must not run (it completed
        before, or an interrupted or superseded attempt started it: result `{"error": INTERRUPTED}`);
        else `(False, None)`, and the call is durably marked started by this call of `lookup`.
        `attempt` is the run's attempt making the call (kept with the marker)."""

    def record(self, effect: ToolEffect, attempt: int = 0) -> None:
        """Record a completed call of `attempt`; returns only once the record is durable."""
