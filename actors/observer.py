"""ObserverActor: fans durable events out to live subscribers (CLI progress, HTTP streams).

Events reach it from the StoreActor after they commit, so a subscriber never sees an event
that a later read of the store would not return. A thread subscriber (`Subscription`) that falls
behind by more than its bound loses the newest events (counted in `dropped`); an event-loop
subscriber (`AsyncSubscription`) that falls behind is ended instead, so its reader can resume
from the store. Neither ever slows the runtime down.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pykka

from agentstage.actors.store import Publish
from agentstage.actors.supervision import Slot, SupervisedActor
from agentstage.runtime.state.records import Event

__all__ = ["AsyncSubscription", "ObserverActor", "Subscribe", "Subscription", "Unsubscribe"]


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

    def offer(self, events: Sequence[Event]) -> None:
        """Called on the observer's thread with the accepted events of one commit; never blocks."""
        for event in events:
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


class AsyncSubscription(Subscription):
    """A live feed read on an asyncio event loop: `await get(timeout)`; no thread waits for it.

    The observer hands each commit's events to the loop with `call_soon_threadsafe`. At most
    `bound` events wait (queued or on their way); one more ends the subscription (`overflowed`):
    it is unsubscribed and `get` answers `ENDED`, so the reader stops and resumes from the store
    instead of the process holding an ever-growing backlog. `end()` ends it from the loop.
    """

    ENDED: Any = object()

    def __init__(self, loop: asyncio.AbstractEventLoop, run_id: str | None = None,
                 types: frozenset[str] | None = None, bound: int = 10_000) -> None:
        super().__init__(run_id, types, bound)
        self.loop = loop
        self.bound = bound
        self.overflowed = False
        self.ended = False
        self._items: asyncio.Queue[Any] = asyncio.Queue()
        self._lock = threading.Lock()
        self._waiting = 0

    def offer(self, events: Sequence[Event]) -> None:
        """Called on the observer's thread; never blocks and never raises."""
        with self._lock:
            if self.ended:
                return
            self._waiting += len(events)
            over = self._waiting > self.bound
            if over:
                self.ended = self.overflowed = True
        try:
            self.loop.call_soon_threadsafe(self._overflow if over else self._deliver, events)
        except RuntimeError:
            with self._lock:
                self.ended = True

    def _deliver(self, events: Sequence[Event]) -> None:
        with self._lock:
            if self.ended:
                return
        for event in events:
            self._items.put_nowait(event)

    def _overflow(self, events: Sequence[Event]) -> None:
        self.close()
        self._finish()

    def _finish(self) -> None:
        while not self._items.empty():
            self._items.get_nowait()
        self._items.put_nowait(self.ENDED)

    def end(self) -> None:
        """End the feed (on the loop): unsubscribe, and let a waiting `get` return `ENDED` at once."""
        with self._lock:
            self.ended = True
        self.close()
        self._finish()

    async def get(self, timeout: float | None = None) -> Any:  # type: ignore[override]
        """The next event, None after `timeout` seconds without one, or `ENDED` once the feed ended."""
        if not self._items.empty():
            item = self._items.get_nowait()
        else:
            try:
                item = await asyncio.wait_for(self._items.get(), timeout)
            except TimeoutError:
                return None
        if item is not self.ENDED:
            with self._lock:
                self._waiting -= 1
        else:
            self._items.put_nowait(self.ENDED)
        return item

    def __iter__(self) -> Iterator[Event]:
        raise TypeError("an AsyncSubscription is read with `await get()`")


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
                accepted = [event for event in message.events if subscription.accepts(event)]
                if accepted:
                    subscription.offer(accepted)
        elif isinstance(message, Subscribe):
            self.subscriptions.append(message.subscription)
        elif isinstance(message, Unsubscribe):
            if message.subscription in self.subscriptions:
                self.subscriptions.remove(message.subscription)
        else:
            raise TypeError(f"ObserverActor cannot handle {type(message).__name__}")
