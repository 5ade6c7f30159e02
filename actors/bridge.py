"""Stream bridge: local messages out to Redis Streams, consumer-group entries in to local actors.

`BridgeActor` is a process's writer: each `Send` is a list of stream ops applied atomically;
sends that queue up while the transport is busy go out together (one round trip), and a send
is retried through outages until the transport takes it, so nothing is lost when Redis restarts.
Its `then` callback runs only after the transport accepted the ops.

`StreamReader` is a thread reading a consumer group with `COUNT` = free capacity and `BLOCK`
<= 2 s; it decodes entries and dead-letters the undecodable ones on first sight. A reader may
linger after a partial read, so that under load the entries arriving meanwhile are read and
handled as one batch instead of one at a time. `decode_entry` and `dead_letter` are the one
poison path every reader of an entry uses (readers, the reaper).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pykka
from loguru import logger

from agentstage.runtime.wire import from_wire
from agentstage.actors.supervision import Slot, SupervisedActor
from agentstage.runtime.errors import DecodeError
from agentstage.runtime.streams import Entry, Op, StreamLayout, coalesce, dlq_fields
from agentstage.runtime.transport import UNAVAILABLE, ReconnectBackoff, StreamTransport, until_reachable

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
    """Writes to the transport for a process; batches queued sends, retries through outages."""

    def __init__(self, transport: StreamTransport, slot: Slot | None = None) -> None:
        super().__init__(slot)
        self.transport = transport
        self._batch: list[Send] = []

    def on_stop(self) -> None:
        self._flush()

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
        ops = coalesce([op for send in batch for op in send.ops])
        # PERF: one command (or script) is atomic alone; MULTI/EXEC around it would triple the commands
        until_reachable(lambda: self.transport.apply(ops, atomic=len(ops) > 1), f"sending {len(ops)} stream ops")
        for send in batch:
            if send.then is not None:
                try:
                    send.then()
                except pykka.ActorDeadError:
                    # NOTE: the process is stopping; what `then` would tell has no one left to hear it.
                    logger.debug("stream send settled after its follower stopped")
                except Exception as exc:  # NOTE: a callback's bug must not lose the sends after it
                    logger.opt(exception=exc).error("stream send callback failed")


class StreamReader(threading.Thread):
    """Reads `streams` as `consumer` in `group` and hands each batch of entries to `deliver`.

    Own pending entries are read first (`0`) and delivered with `redelivered=True`; then new
    entries (`>`), at most `capacity()` at a time. Outages are waited out with backoff. `gate`, if
    given, is called at start and after every outage before reading again (it may block until
    the stream server is fit to be read, see `runtime.distributed.reconciler`). `linger`, if given,
    is asked after a read that found fewer entries than there was room for: the seconds to wait
    before reading again (0: read at once).
    """

    def __init__(self, transport: StreamTransport, layout: StreamLayout, streams: tuple[str, ...], group: str,
                 consumer: str, deliver: Callable[[list[Entry], bool], None], capacity: Callable[[], int],
                 *, block_ms: int = 500, name: str = "stream-reader", max_bytes: int | None = None,
                 gate: Callable[[threading.Event], None] | None = None,
                 linger: Callable[[], float] | None = None) -> None:
        super().__init__(name=name, daemon=True)
        self.transport = transport
        self.layout = layout
        self.streams = streams
        self.group = group
        self.consumer = consumer
        self.deliver = deliver
        self.capacity = capacity
        self.block_ms = min(block_ms, 2000)
        self.max_bytes = max_bytes
        self.gate = gate
        self.linger = linger
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
        transport = self.transport
        backoff = ReconnectBackoff()
        # NOTE: own pending entries are read once, at start: after a reconnect they are still in hand.
        backlog = {stream: "0" for stream in self.streams}
        while not self._stop_event.is_set():
            try:
                if not self.ready.is_set():
                    for stream in self.streams:
                        transport.ensure_group(stream, self.group)
                    if self.gate is not None:
                        self.gate(self._stop_event)
                    self.ready.set()
                if backlog:
                    backlog, _ = self._read(backlog, 500, None, True)
                    backoff.reset()
                    continue
                free = self.capacity()
                if free <= 0:
                    self._wake.wait(0.2)
                    self._wake.clear()
                    continue
                _, read = self._read({stream: ">" for stream in self.streams}, free, self.block_ms, False)
                backoff.reset()
                if 0 < read < free and self.linger is not None and (pause := self.linger()) > 0:
                    self._stop_event.wait(pause)
            except UNAVAILABLE as exc:
                logger.warning("{}: stream server unavailable ({}); reconnecting", self.name, exc)
                self.ready.clear()
                backoff.wait(self._stop_event)
            except Exception as exc:  # NOTE: a reader that dies leaves its consumer silently idle
                logger.opt(exception=exc).error("{}: read failed; retrying", self.name)
                self.ready.clear()
                backoff.wait(self._stop_event)

    def _read(self, start: dict[str, str], count: int, block: int | None,
              redelivered: bool) -> tuple[dict[str, str], int]:
        """Read and deliver one batch; returns where each stream's backlog continues (empty when done) and how
        many entries were read."""
        raw = self.transport.read_group(self.group, self.consumer, start, count, block)
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
            self.transport.apply(ops)
        if entries:
            self.deliver(entries, redelivered)
        return following, len(raw)
