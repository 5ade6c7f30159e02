"""ObserverActor: fans durable events out to live subscribers (CLI progress, HTTP streams).

Events reach it from the StoreActor after they commit, so a subscriber never sees an event
that a later read of the store would not return. A subscriber that falls behind by more than
its bound loses the newest events (counted in `dropped`); it never slows
the runtime down.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pykka

from agentstage.actors.store import Publish
from agentstage.actors.supervision import Slot, SupervisedActor
from agentstage.runtime.state.records import Event

__all__ = ["ObserverActor", "Subscribe", "Subscription", "Unsubscribe"]


class Subscription:
    """A live feed of events, optionally of one run; iterate it, or call `get`.

    Created by `System.subscribe`; close it (or use it as a context manager) to stop.
    """

    def __init__(self, run_id: str | None = None, types: frozenset[str] | None = None, bound: int = 10_000) -> None:
        self.run_id = run_id
        self.types = types
        self._queue: queue.Queue[Event] = queue.Queue(maxsize=bound)
        self._close: Callable[[], None] = lambda: None
        self.dropped = 0

    def accepts(self, event: Event) -> bool:
        return (self.run_id is None or event.run_id == self.run_id) and (self.types is None or event.type in self.types)

    def offer(self, event: Event) -> None:
        """Called on the observer's thread; never blocks."""
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1

    def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or None after `timeout` seconds without one."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def __iter__(self) -> Iterator[Event]:
        while True:
            event = self._queue.get()
            yield event

    def close(self) -> None:
        """Stop receiving events; harmless after the System has stopped."""
        try:
            self._close()
        except pykka.ActorDeadError:
            pass

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class Subscribe:
    subscription: Subscription


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    subscription: Subscription


class ObserverActor(SupervisedActor):
    """Holds the subscriptions; runs on its own thread."""

    def __init__(self, slot: Slot | None = None, subscriptions: list[Subscription] | None = None) -> None:
        super().__init__(slot)
        self.subscriptions: list[Subscription] = subscriptions if subscriptions is not None else []

    def receive(self, message: Any) -> None:
        if isinstance(message, Publish):
            for subscription in self.subscriptions:
                for event in message.events:
                    if subscription.accepts(event):
                        subscription.offer(event)
        elif isinstance(message, Subscribe):
            self.subscriptions.append(message.subscription)
        elif isinstance(message, Unsubscribe):
            if message.subscription in self.subscriptions:
                self.subscriptions.remove(message.subscription)
        else:
            raise TypeError(f"ObserverActor cannot handle {type(message).__name__}")
