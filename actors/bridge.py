"""Stream bridge: local messages out to Redis Streams, consumer-group entries in to local actors.

`BridgeActor` owns the outgoing connection: each `Send` is a list of stream ops run in one
MULTI/EXEC; sends that queue up while Redis is busy go out together (one round trip), and a send
is retried with backoff until Redis takes it, so nothing is lost when Redis restarts. Its `then`
callback runs only after Redis accepted the ops.

`StreamReader` is a thread reading a consumer group with `COUNT` = free capacity and `BLOCK`
<= 2 s; it decodes entries and dead-letters the undecodable ones on first sight. `decode_entry`
and `dead_letter` are the one poison path every reader of an entry uses (readers, the reaper).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import redis
from loguru import logger

from agentstage.actors.messages import from_wire
from agentstage.actors.supervision import Slot, SupervisedActor
from agentstage.runtime.errors import DecodeError
from agentstage.runtime.streams import (
    REDIS_DOWN,
    Entry,
    Op,
    ReconnectBackoff,
    StreamLayout,
    apply_ops,
    dlq_fields,
    ensure_group,
    read_group,
)

__all__ = ["BridgeActor", "Send", "StreamReader", "dead_letter", "decode_entry"]

_MAX_BATCH = 500


@dataclass(frozen=True, slots=True)
class Send:
    """Apply `ops` atomically in Redis, then call `then` (on the bridge's thread)."""

    ops: tuple[Op, ...]
    then: Callable[[], None] | None = None


def decode_entry(stream: str, entry_id: str, payload: bytes | None, max_bytes: int | None) -> Entry | None:
    """Decode one entry's payload; None for an entry deleted while pending, `error` set for poison."""
    if payload is None:
        return None
    if not payload:
        return Entry(stream, entry_id, b"", error="entry has no payload: field 'm' is missing or empty")
    try:
        return Entry(stream, entry_id, payload, from_wire(payload, max_bytes))
    except DecodeError as exc:
        return Entry(stream, entry_id, payload, error=str(exc))


def dead_letter(dlq: str, entry: Entry, group: str, reason: str | None = None) -> list[Op]:
    """Ops moving `entry` to the DLQ with its reason and acking it for `group`, for one MULTI/EXEC."""
    why = reason or entry.error or "undecodable"
    logger.error("dead-lettering entry {} of {}: {}", entry.entry_id, entry.stream, why)
    return [("dlq", dlq, dlq_fields(stream=entry.stream, entry_id=entry.entry_id, raw=entry.raw, reason=why)),
            ("xack", entry.stream, group, entry.entry_id)]


class BridgeActor(SupervisedActor):
    """Writes to Redis for a process; batches queued sends, retries through outages."""

    def __init__(self, url: str, slot: Slot | None = None) -> None:
        super().__init__(slot)
        self.url = url
        self.client: redis.Redis | None = None
        self._batch: list[Send] = []
        self._stopping = threading.Event()

    def on_start(self) -> None:
        self.client = redis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=2)

    def on_stop(self) -> None:
        self._flush()
        if self.client is not None:
            self.client.close()

    def receive(self, message: Send) -> None:
        if not isinstance(message, Send):
            raise TypeError(f"BridgeActor cannot handle {type(message).__name__}")
        self._batch.append(message)
        if len(self._batch) >= _MAX_BATCH or self.actor_inbox.empty():
            self._flush()

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        ops = [op for send in batch for op in send.ops]
        backoff = ReconnectBackoff()
        while True:
            try:
                assert self.client is not None
                apply_ops(self.client, ops)
                break
            except REDIS_DOWN as exc:
                logger.warning("redis unavailable ({}); retrying {} stream ops", exc, len(ops))
                backoff.wait()
        for send in batch:
            if send.then is not None:
                try:
                    send.then()
                except Exception as exc:  # NOTE: a callback's bug must not lose the sends after it
                    logger.opt(exception=exc).error("stream send callback failed")


class StreamReader(threading.Thread):
    """Reads `streams` as `consumer` in `group` and hands each batch of entries to `deliver`.

    Own pending entries are read first (`0`) and delivered with `redelivered=True`; then new
    entries (`>`), at most `capacity()` at a time. Redis outages are waited out with backoff.
    """

    def __init__(self, url: str, layout: StreamLayout, streams: tuple[str, ...], group: str, consumer: str,
                 deliver: Callable[[list[Entry], bool], None], capacity: Callable[[], int],
                 *, block_ms: int = 500, name: str = "stream-reader", max_bytes: int | None = None) -> None:
        super().__init__(name=name, daemon=True)
        self.url = url
        self.layout = layout
        self.streams = streams
        self.group = group
        self.consumer = consumer
        self.deliver = deliver
        self.capacity = capacity
        self.block_ms = min(block_ms, 2000)
        self.max_bytes = max_bytes
        self._stop_event = threading.Event()
        self._wake = threading.Event()
        self.ready = threading.Event()

    def signal_stop(self) -> None:
        """Ask the thread to stop after its current read (at most `block_ms`)."""
        self._stop_event.set()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self.signal_stop()
        if self.is_alive():
            self.join(timeout)

    def wake(self) -> None:
        """Capacity was freed: read again without waiting."""
        self._wake.set()

    def run(self) -> None:
        client = redis.Redis.from_url(self.url, socket_timeout=max(5, self.block_ms / 1000 + 3), socket_connect_timeout=2)
        backoff = ReconnectBackoff()
        # NOTE: own pending entries are read once, at start: after a reconnect they are still in hand.
        backlog = {stream: "0" for stream in self.streams}
        try:
            while not self._stop_event.is_set():
                try:
                    if not self.ready.is_set():
                        for stream in self.streams:
                            ensure_group(client, stream, self.group)
                        self.ready.set()
                    if backlog:
                        backlog = self._read(client, backlog, 500, None, True)
                        backoff.reset()
                        continue
                    free = self.capacity()
                    if free <= 0:
                        self._wake.wait(0.2)
                        self._wake.clear()
                        continue
                    self._read(client, {stream: ">" for stream in self.streams}, free, self.block_ms, False)
                    backoff.reset()
                except REDIS_DOWN as exc:
                    logger.warning("{}: redis unavailable ({}); reconnecting", self.name, exc)
                    self.ready.clear()
                    backoff.wait(self._stop_event)
                except Exception as exc:  # NOTE: a reader that dies leaves its consumer silently idle
                    logger.opt(exception=exc).error("{}: read failed; retrying", self.name)
                    self.ready.clear()
                    backoff.wait(self._stop_event)
        finally:
            client.close()

    def _read(self, client: redis.Redis, start: dict[str, str], count: int, block: int | None,
              redelivered: bool) -> dict[str, str]:
        """Read and deliver one batch; returns where each stream's backlog continues (empty when done)."""
        raw = read_group(client, self.group, self.consumer, start, count, block)
        following = {stream: entry_id for stream, entry_id, _ in raw}
        entries, ops = [], []
        for stream, entry_id, payload in raw:
            entry = decode_entry(stream, entry_id, payload, self.max_bytes)
            if entry is None:
                logger.warning("{}: entry {} of {} was deleted while pending; acking it", self.name, entry_id, stream)
                ops.append(("xack", stream, self.group, entry_id))
            elif entry.error is not None:
                ops.extend(dead_letter(self.layout.dlq, entry, self.group))
            else:
                entries.append(entry)
        if ops:
            apply_ops(client, ops)
        if entries:
            self.deliver(entries, redelivered)
        return following
