"""Server-Sent Events on the event loop: a run's events (resumable by seq) and the live feed of all events.

A stream is an async generator fed by an `AsyncSubscription` of the observer, so no thread waits
for it. A run's stream subscribes first and reads the store second, then follows the live
subscription, skipping what it already sent (by seq) and filling any gap from the store; while
the subscription is quiet it polls the store, so events written by another process (a
distributed coordinator) arrive too. Nothing is lost or repeated between the stored history and
the live tail. Live-only `llm.delta` events (seq 0) pass through without an `id:`. Store reads
run on the backend's pool, one page at a time; no connection is held across a yield. `: ping`
comments keep proxies from closing idle streams. A subscription that overflows ends the stream:
the client reconnects with `Last-Event-ID` and the store fills the gap.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

from agentstage.api.backend import Backend
from agentstage.api.redaction import redact_event
from agentstage.runtime.clock import utc_ago
from agentstage.runtime.state.records import Event

__all__ = ["LiveStream", "all_events_stream", "format_event", "run_event_stream"]

TERMINAL_EVENTS = frozenset({"run.completed", "run.failed", "run.cancelled"})
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
_PAGE = 500
_POLL = 0.5
_SEEN = 50_000
_START_LOOKBACK = 2.0
"""Seconds before its start a stream without backlog polls from: events stamped just before it but
stored after it (a write in flight, the test's or a coordinator's) are not missed; `seen` drops repeats."""
_RETRY = b"retry: 2000\n\n"
_PING = b": ping\n\n"


def format_event(event: Event, *, with_id: bool = True) -> bytes:
    """One SSE message: `id:` is the event's seq, `event:` its type, `data:` the event as JSON (secrets redacted)."""
    head = f"id: {event.seq}\n" if with_id else ""
    data = json.dumps(redact_event(event), separators=(",", ":"), default=str)
    return f"{head}event: {event.type}\ndata: {data}\n\n".encode()


class LiveStream:
    """`resp.stream` of an event stream: iterates `body`; `close` (Falcon calls it) releases once."""

    def __init__(self, body: AsyncIterator[bytes], release: Callable[[], None]) -> None:
        self._body = body
        self._release: Callable[[], None] | None = release

    def __aiter__(self) -> LiveStream:
        return self

    async def __anext__(self) -> bytes:
        return await self._body.__anext__()

    async def close(self) -> None:
        try:
            await self._body.aclose()  # type: ignore[attr-defined]
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


async def _stored(backend: Backend, run_id: str, after: int, upto: int | None = None) -> AsyncIterator[Event]:
    """A run's stored events after `after` (up to `upto`), read a page at a time on the pool."""
    while True:
        page = await backend.read(lambda reader, after=after: reader.events(run_id, after_seq=after, limit=_PAGE))
        for event in page:
            if upto is not None and event.seq > upto:
                return
            after = event.seq
            yield event
        if len(page) < _PAGE:
            return


async def run_event_stream(backend: Backend, subscription: Any, run_id: str, after_seq: int, *, heartbeat: float,
                           max_events: int | None = None, timeout: float | None = None) -> AsyncIterator[bytes]:
    """A run's events after `after_seq`: the stored ones, then live ones until the run ends.

    `subscription` is an `AsyncSubscription` of the run, opened before this reads the store.
    """
    deadline = time.monotonic() + timeout if timeout is not None else None
    last, sent = after_seq, 0

    def done() -> bool:
        return (max_events is not None and sent >= max_events) or (
            deadline is not None and time.monotonic() >= deadline)

    yield _RETRY
    async for event in _stored(backend, run_id, last):
        last = event.seq
        yield format_event(event)
        sent += 1
        if event.type in TERMINAL_EVENTS or done():
            return
    run = await backend.read(lambda reader: reader.get_run(run_id))
    if run.status in TERMINAL_STATUSES:
        async for event in _stored(backend, run_id, last):
            yield format_event(event)
        return
    quiet_since = time.monotonic()
    while not done():
        wait = _POLL if deadline is None else max(0.0, min(_POLL, deadline - time.monotonic()))
        event = await subscription.get(timeout=wait)
        if event is subscription.ENDED:
            return
        if event is None:
            # NOTE: another process (a distributed coordinator) may be the writer: poll the store.
            async for stored in _stored(backend, run_id, last):
                quiet_since = time.monotonic()
                last = stored.seq
                yield format_event(stored)
                sent += 1
                if stored.type in TERMINAL_EVENTS or done():
                    return
            if time.monotonic() - quiet_since >= heartbeat and not done():
                quiet_since = time.monotonic()
                yield _PING
            continue
        quiet_since = time.monotonic()
        if event.seq == 0:
            yield format_event(event, with_id=False)
            continue
        if event.seq <= last:
            continue
        if event.seq > last + 1:
            async for stored in _stored(backend, run_id, last, upto=event.seq - 1):
                last = stored.seq
                yield format_event(stored)
                sent += 1
                if stored.type in TERMINAL_EVENTS or done():
                    return
        last = event.seq
        yield format_event(event)
        sent += 1
        if event.type in TERMINAL_EVENTS:
            return


async def all_events_stream(backend: Backend, subscription: Any, *, run_id: str | None, types: list[str] | None,
                            backlog: int, heartbeat: float, max_events: int | None = None,
                            timeout: float | None = None, poll_store: bool = False) -> AsyncIterator[bytes]:
    """Live events of every run (or one run, or some types), after up to `backlog` stored ones.

    `subscription` is an `AsyncSubscription` with the same filters. With `poll_store` (a distributed
    runtime, whose coordinator writes the store) events stored by other processes are picked up
    too, by time stamp, without repeats.
    """
    deadline = time.monotonic() + timeout if timeout is not None else None
    recent = (await backend.read(lambda reader: reader.recent_events(run_id=run_id, types=types, limit=backlog))
              if backlog else [])
    seen: OrderedDict[tuple[str, int], None] = OrderedDict(((e.run_id, e.seq), None) for e in recent)
    watermark = recent[-1].ts if recent else utc_ago(_START_LOOKBACK)
    sent = 0

    def fresh(key: tuple[str, int]) -> bool:
        if key[1] == 0:
            return True
        if key in seen:
            return False
        seen[key] = None
        if len(seen) > _SEEN:
            seen.popitem(last=False)
        return True

    def full() -> bool:
        nonlocal sent
        sent += 1
        return max_events is not None and sent >= max_events

    yield _RETRY
    for event in recent:
        yield format_event(event, with_id=False)
        if full():
            return
    quiet_since = time.monotonic()
    while deadline is None or time.monotonic() < deadline:
        step = _POLL if poll_store else heartbeat
        wait = step if deadline is None else max(0.0, min(step, deadline - time.monotonic()))
        event = await subscription.get(timeout=wait)
        if event is subscription.ENDED:
            return
        if event is not None:
            quiet_since = time.monotonic()
            if fresh((event.run_id, event.seq)):
                yield format_event(event, with_id=False)
                if full():
                    return
            continue
        if poll_store:
            since = watermark
            stored_events = await backend.read(
                lambda reader: reader.events_since(since, run_id=run_id, types=types, limit=_PAGE))
            for stored in stored_events:
                watermark = max(watermark, stored.ts)
                if fresh((stored.run_id, stored.seq)):
                    quiet_since = time.monotonic()
                    yield format_event(stored, with_id=False)
                    if full():
                        return
        if time.monotonic() - quiet_since >= heartbeat:
            quiet_since = time.monotonic()
            yield _PING
