"""AgentPool: N agent actors behind a least-busy router, with an admission limit on runs in flight."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import pykka

from agentstage.actors.supervision import Slot

__all__ = ["AgentPool"]


class AgentPool:
    """Routes each message to the member with the fewest runs in hand.

    `factory(slot, on_idle)` starts one member; the member calls `on_idle()` when it finishes
    a run, so the pool knows how busy each member is. With a `limit`, at most that many runs
    are in flight; the rest wait here in order, each passed through `on_queued` (which records
    that it waits) and dispatched when a run ends. The first `eager` members start now (so a member
    that cannot start fails the pool's creation), the others with their first message.
    """

    def __init__(self, name: str, size: int, factory: Callable[[Slot, Callable[[], None]], pykka.ActorRef[Any]],
                 *, limit: int | None = None, on_queued: Callable[[Any], Any] | None = None,
                 eager: int = 1) -> None:
        self.name = name
        self.limit = limit
        self.on_queued = on_queued
        self._lock = threading.Condition()
        self._in_flight = [0] * size
        self._waiting: deque[Any] = deque()
        self.slots = [
            Slot(f"{name}[{index}]", lambda slot, index=index: factory(slot, lambda: self._idle(index)),
                 lazy=index >= eager)
            for index in range(size)
        ]

    def dispatch(self, message: Any) -> None:
        """Send `message` to the least busy member, or queue it while the pool is at its limit."""
        with self._lock:
            if self.limit is not None and (self._waiting or sum(self._in_flight) >= self.limit):
                self._waiting.append(self.on_queued(message) if self.on_queued is not None else message)
                return
            index = self._choose()
        self.slots[index].tell(message)

    def admit_now(self, match: Callable[[Any], bool]) -> bool:
        """Send the waiting message `match` picks to a member now, past the limit (a cancelled run, which
        ends at once); False when none waits."""
        with self._lock:
            found = next((m for m in self._waiting if match(m)), None)
            if found is None:
                return False
            self._waiting.remove(found)
            index = self._choose()
        self.slots[index].tell(found)
        return True

    def broadcast(self, message: Any) -> None:
        """Send `message` to every started member (e.g. a cancel for a run one of them holds)."""
        for slot in self.slots:
            if slot.started:
                slot.tell(message)

    @property
    def in_flight(self) -> int:
        return sum(self._in_flight)

    @property
    def queued(self) -> int:
        return len(self._waiting)

    def _choose(self) -> int:
        index = min(range(len(self._in_flight)), key=self._in_flight.__getitem__)
        self._in_flight[index] += 1
        return index

    def _idle(self, index: int) -> None:
        with self._lock:
            self._in_flight[index] = max(0, self._in_flight[index] - 1)
            admitted = None
            if self._waiting and (self.limit is None or sum(self._in_flight) < self.limit):
                admitted = (self._waiting.popleft(), self._choose())
            self._lock.notify_all()
        if admitted is not None:
            self.slots[admitted[1]].tell(admitted[0])

    def drain(self, deadline: float) -> bool:
        """Wait until no run is in flight or queued, at most until `deadline` (monotonic); True when idle."""
        with self._lock:
            while sum(self._in_flight) or self._waiting:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every member; runs still queued go to members first, which end them as cancelled."""
        with self._lock:
            waiting, self._waiting = list(self._waiting), deque()
            targets = [self._choose() for _ in waiting]
        for message, index in zip(waiting, targets):
            self.slots[index].tell(message)
        for slot in self.slots:
            slot.stop(timeout)
