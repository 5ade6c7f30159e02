"""Server-Sent Events over WSGI: a run's events (resumable by seq) and the live feed of all events.

A run's stream subscribes first and reads the store second, then follows the live subscription,
skipping what it already sent (by seq) and filling any gap from the store; while the subscription
is quiet it polls the store, so events written by another process (a distributed coordinator)
arrive too. Nothing is lost or repeated between the stored history and the live tail. Live-only
`llm.delta` events (seq 0) pass through without an `id:`. No database connection or transaction
is held across a yield. `: ping` comments keep proxies from closing idle streams.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from agentstage.api.backend import Backend
from agentstage.runtime.clock import utc_now

__all__ = ["all_events_stream", "format_event", "run_event_stream"]

TERMINAL_EVENTS = frozenset({"run.completed", "run.failed", "run.cancelled"})
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
_PAGE = 500
_POLL = 0.5
_SEEN = 50_000


def format_event(event: dict[str, Any], *, with_id: bool = True) -> bytes:
    """One SSE message: `id:` is the event's seq, `event:` its type, `data:` the event as JSON."""
    head = f"id: {event['seq']}\n" if with_id else ""
    data = json.dumps(event, separators=(",", ":"), default=str)
    return f"{head}event: {event['type']}\ndata: {data}\n\n".encode()


def run_event_stream(backend: Backend, run_id: str, after_seq: int, *, heartbeat: float,
                     max_events: int | None = None, timeout: float | None = None) -> Iterator[bytes]:
    """A run's events after `after_seq`: the stored ones, then live ones until the run ends."""
    subscription = backend.system.subscribe(run_id)
    deadline = time.monotonic() + timeout if timeout is not None else None
    state = {"last": after_seq, "sent": 0}

    def stored(upto: int | None = None) -> Iterator[tuple[bytes, bool]]:
        while True:
            page = backend.reader().events(run_id, after_seq=state["last"], limit=_PAGE)
            for event in page:
                if upto is not None and event["seq"] > upto:
                    return
                state["last"] = event["seq"]
                yield format_event(event), event["type"] in TERMINAL_EVENTS
            if len(page) < _PAGE:
                return

    def done() -> bool:
        return (max_events is not None and state["sent"] >= max_events) or (
            deadline is not None and time.monotonic() >= deadline)

    def generate() -> Iterator[bytes]:
        try:
            yield b"retry: 2000\n\n"
            for chunk, terminal in stored():
                yield chunk
                state["sent"] += 1
                if terminal or done():
                    return
            if backend.reader().get_run(run_id).status in TERMINAL_STATUSES:
                for chunk, _ in stored():
                    yield chunk
                return
            quiet_since = time.monotonic()
            while not done():
                wait = _POLL if deadline is None else max(0.0, min(_POLL, deadline - time.monotonic()))
                event = subscription.get(timeout=wait)
                if event is None:
                    # NOTE: another process (a distributed coordinator) may be the writer: poll the store.
                    for chunk, terminal in stored():
                        quiet_since = time.monotonic()
                        yield chunk
                        state["sent"] += 1
                        if terminal or done():
                            return
                    if time.monotonic() - quiet_since >= heartbeat and not done():
                        quiet_since = time.monotonic()
                        yield b": ping\n\n"
                    continue
                quiet_since = time.monotonic()
                if event.seq == 0:
                    yield format_event(asdict(event), with_id=False)
                    continue
                if event.seq <= state["last"]:
                    continue
                if event.seq > state["last"] + 1:
                    for chunk, terminal in stored(upto=event.seq - 1):
                        yield chunk
                        state["sent"] += 1
                        if terminal or done():
                            return
                state["last"] = event.seq
                yield format_event(asdict(event))
                state["sent"] += 1
                if event.type in TERMINAL_EVENTS:
                    return
        finally:
            subscription.close()

    return generate()


def all_events_stream(backend: Backend, *, run_id: str | None, types: list[str] | None, backlog: int,
                      heartbeat: float, max_events: int | None = None, timeout: float | None = None,
                      poll_store: bool = False) -> Iterator[bytes]:
    """Live events of every run (or one run, or some types), after up to `backlog` stored ones.

    With `poll_store` (a distributed runtime, whose coordinator writes the store) events stored by
    other processes are picked up too, by time stamp, without repeats.
    """
    subscription = backend.system.subscribe(run_id, types)
    deadline = time.monotonic() + timeout if timeout is not None else None
    recent = backend.reader().recent_events(run_id=run_id, types=types, limit=backlog) if backlog else []
    seen: OrderedDict[tuple[str, int], None] = OrderedDict(((e["run_id"], e["seq"]), None) for e in recent)
    state = {"sent": 0, "watermark": recent[-1]["ts"] if recent else utc_now()}

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
        state["sent"] += 1
        return max_events is not None and state["sent"] >= max_events

    def generate() -> Iterator[bytes]:
        try:
            yield b"retry: 2000\n\n"
            for event in recent:
                yield format_event(event, with_id=False)
                if full():
                    return
            quiet_since = time.monotonic()
            while deadline is None or time.monotonic() < deadline:
                step = _POLL if poll_store else heartbeat
                wait = step if deadline is None else max(0.0, min(step, deadline - time.monotonic()))
                event = subscription.get(timeout=wait)
                if event is not None:
                    quiet_since = time.monotonic()
                    if fresh((event.run_id, event.seq)):
                        yield format_event(asdict(event), with_id=False)
                        if full():
                            return
                    continue
                if poll_store:
                    for stored in backend.reader().events_since(state["watermark"], run_id=run_id, types=types,
                                                                limit=_PAGE):
                        state["watermark"] = max(state["watermark"], stored["ts"])
                        if fresh((stored["run_id"], stored["seq"])):
                            quiet_since = time.monotonic()
                            yield format_event(stored, with_id=False)
                            if full():
                                return
                if time.monotonic() - quiet_since >= heartbeat:
                    quiet_since = time.monotonic()
                    yield b": ping\n\n"
        finally:
            subscription.close()

    return generate()
