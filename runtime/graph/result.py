"""How a graph run call ended: completed, failed, or waiting for human input."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["GraphResult"]


@dataclass(frozen=True, slots=True)
class GraphResult:
    """The outcome of one run/resume/fork call.

    `trace` lists the nodes completed during this call; `step` is the last committed
    checkpoint; `waiting_for` names the human node when `status == "waiting"`.
    """

    run_id: str
    session_id: str
    status: str
    output: str = ""
    error: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    trace: tuple[str, ...] = ()
    waiting_for: str | None = None
    prompt: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "session_id": self.session_id, "status": self.status, "output": self.output,
                "error": self.error, "step": self.step, "trace": list(self.trace), "waiting_for": self.waiting_for,
                "prompt": self.prompt, "note": self.note, "state": self.state}
