"""AgentPool: N agent actors behind a least-busy router."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pykka

from agentstage.actors.supervision import Slot

__all__ = ["AgentPool"]


class AgentPool:
    """Routes each message to the member with the fewest runs in hand.

    `factory(slot, on_idle)` starts one member; the member calls `on_idle()` when it finishes
    a message, so the pool knows how busy each member is.
    """

    def __init__(self, name: str, size: int, factory: Callable[[Slot, Callable[[], None]], pykka.ActorRef[Any]]) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._in_flight = [0] * size
        self.slots = [
            Slot(f"{name}[{index}]", lambda slot, index=index: factory(slot, lambda: self._idle(index)))
            for index in range(size)
        ]

    def dispatch(self, message: Any) -> None:
        """Send `message` to the least busy member."""
        with self._lock:
            index = min(range(len(self._in_flight)), key=self._in_flight.__getitem__)
            self._in_flight[index] += 1
        self.slots[index].tell(message)

    @property
    def in_flight(self) -> int:
        return sum(self._in_flight)

    def _idle(self, index: int) -> None:
        with self._lock:
            self._in_flight[index] = max(0, self._in_flight[index] - 1)

    def stop(self, timeout: float = 5.0) -> None:
        for slot in self.slots:
            slot.stop(timeout)
