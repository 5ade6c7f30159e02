"""Health of a store: what `/readyz` and `agentstage state stats` report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Health"]


@dataclass(frozen=True, slots=True)
class Health:
    """A store's condition: `ok`, `degraded` (working, a part is down) or `down`, with the reason."""

    status: Literal["ok", "degraded", "down"]
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"
