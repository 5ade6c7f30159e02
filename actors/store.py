"""StoreActor: the single writer of a process's state file, with group commit.

Writes arrive as `Write` commands. Each is applied in its own savepoint inside a shared
transaction that commits when the inbox is empty (or the batch is large): many writers,
one fsync. Only after the commit are reply futures settled and new events handed to the
observer, so whatever a subscriber sees is already durable.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pykka
from loguru import logger

from agentstage.actors.supervision import Slot, SupervisedActor
from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import StoreError
from agentstage.runtime.state.base import StoreReader, StoreWriter
from agentstage.runtime.state.records import EffectIntent, Event, Record, ToolEffect
from agentstage.runtime.tools.journal import INTERRUPTED, run_of_key

__all__ = ["Confirmed", "Publish", "StoreActor", "StoreJournal", "Write", "write_until_durable"]

_MAX_GROUP = 2000


@dataclass(frozen=True, slots=True)
class Write:
    """Persist `records` atomically; then set `reply` to `result` (or to the StoreError).

    `fence` names the task attempt `(run_id, attempt)` whose execution produced the records (a
    graph's child runs carry their parent's): a worker's sink refuses, and the coordinator drops,
    what a superseded attempt still writes. The store itself ignores it.
    """

    records: tuple[Record, ...]
    reply: pykka.Future[Any] | None = None
    result: Any = None
    fence: tuple[str, int] | None = None


@dataclass(frozen=True, slots=True)
class Publish:
    """Durable events for live subscribers (sent by the store to the observer)."""

    events: tuple[Event, ...]


class Confirmed(pykka.Future):
    """A `Write` reply that calls `callback(error)` once settled: None when committed, else the error.

    The callback runs on the store's thread, so it must not block. Nothing waits on it, so it holds
    no condition (PERF: a run sends one per step).
    """

    def __init__(self, callback: Callable[[BaseException | None], None]) -> None:
        super().__init__()
        self._callback = callback

    def get(self, *, timeout: float | None = None) -> Any:
        raise TypeError("a Confirmed reply calls back; it is not waited on")

    def set(self, value: Any = None) -> None:
        self._callback(None)

    def set_exception(self, exc_info: Any = None) -> None:
        self._callback(exc_info[1] if exc_info else None)


def write_until_durable(store: Slot, records: tuple[Record, ...], then: Callable[[], None] | None = None,
                        delay: float = 0.1, maximum: float = 5.0) -> None:
    """Send `records` to the store, again and again with backoff until a commit takes them; returns at once.

    For records that must land once the store can write again (disk full, a lock held past the
    busy timeout). `then` runs (on the store's thread) once they are durable. Retries wait on a
    timer thread, never in an actor; they end when the store stops.
    """
    def settled(error: BaseException | None) -> None:
        if error is None:
            if then is not None:
                try:
                    then()
                except pykka.ActorDeadError:
                    # NOTE: the process is stopping; what `then` would tell has no one left to hear it.
                    logger.debug("durable write settled after its follower stopped")
            return
        logger.warning("store write of {} records failed ({}); retrying in {:.1f}s", len(records), error, delay)
        timer = threading.Timer(delay, write_until_durable, (store, records, then, min(delay * 2, maximum), maximum))
        timer.daemon = True
        timer.start()

    try:
        store.tell(Write(records, Confirmed(settled)))
    except pykka.ActorDeadError:
        logger.error("the store stopped before {} records could be written", len(records))


class StoreActor(SupervisedActor):
    """Owns the process's store writer (SQLite, Redis or Hybrid); runs on its own thread."""

    def __init__(self, writer: StoreWriter, observer: Slot | None, slot: Slot | None = None) -> None:
        super().__init__(slot)
        self.writer = writer
        self.observer = observer
        self._replies: list[tuple[pykka.Future[Any] | None, Any]] = []
        self._fresh: list[Event] = []
        self._pending = 0

    def on_start(self) -> None:
        if self.writer.in_transaction:
            self.writer.rollback()

    def receive(self, message: Any) -> None:
        if isinstance(message, Write):
            self._write(message)
        else:
            raise TypeError(f"StoreActor cannot handle {type(message).__name__}")
        if self._pending and (self._pending >= _MAX_GROUP or self.actor_inbox.empty()):
            self._flush()

    def _write(self, message: Write) -> None:
        try:
            if not self.writer.in_transaction:
                self.writer.begin()
            self._fresh.extend(self.writer.apply_batch(message.records))
        except Exception as exc:  # NOTE: the savepoint undid only this writer's records; others stay in the group
            logger.error("store write failed: {!r}", exc)
            if message.reply is not None:
                message.reply.set_exception(exc_info=(type(exc), exc, None))
            return
        self._replies.append((message.reply, message.result))
        self._pending += len(message.records) or 1

    def _flush(self) -> None:
        if not self.writer.in_transaction:
            return
        replies, fresh = self._replies, self._fresh
        self._replies, self._fresh, self._pending = [], [], 0
        try:
            self.writer.commit()
        except StoreError as exc:
            logger.error("store commit failed for {} writes (their senders decide on retries): {}", len(replies),
                         exc)
            self.writer.rollback()
            for reply, _ in replies:
                if reply is not None:
                    reply.set_exception(exc_info=(type(exc), exc, None))
            return
        for reply, result in replies:
            if reply is not None:
                reply.set(result)
        if fresh and self.observer is not None:
            self.observer.tell(Publish(tuple(fresh)))

    def on_crash(self, message: Any, error: BaseException) -> None:
        logger.opt(exception=error).error("StoreActor crashed handling {}", type(message).__name__)
        pending = self._replies + ([(message.reply, None)] if isinstance(message, Write) else [])
        self._replies, self._fresh, self._pending = [], [], 0
        try:
            self.writer.rollback()
        except StoreError:
            pass
        for reply, _ in pending:
            if reply is not None:
                reply.set_exception(exc_info=(type(error), error, None))

    def on_stop(self) -> None:
        self._flush()


class StoreJournal:
    """The effect journal of an embedded System over its store: intents and outcomes wait for the commit.

    `lookup` (on the calling actor's thread) returns a recorded outcome, or commits an intent owned
    by this journal before the call runs. An intent owned by another journal is a call whose
    process died during it: its outcome is recorded as unknown and the call is not repeated.
    """

    def __init__(self, store: Slot, reader: Callable[[], StoreReader], timeout: float = 30.0) -> None:
        self.store = store
        self.reader = reader
        self.timeout = timeout
        self.owner = uuid.uuid4().hex

    def lookup(self, key: str, attempt: int = 0) -> tuple[bool, Any]:
        done, result = self.reader().tool_effect(key)
        if done:
            return True, result
        owner = self.reader().effect_intent(key)
        if owner is None:
            self._write(EffectIntent(key, run_of_key(key), self.owner, utc_now()))
            done, result = self.reader().tool_effect(key)
            if done:
                return True, result
            owner = self.reader().effect_intent(key)
        if owner == self.owner:
            return False, None
        logger.warning("side-effecting call {} was interrupted in an earlier attempt; not repeating it", key)
        unknown = {"error": INTERRUPTED}
        self._write(ToolEffect(key, run_of_key(key), "", unknown, utc_now()))
        return self.reader().tool_effect(key)

    def record(self, effect: ToolEffect, attempt: int = 0) -> None:
        self._write(effect)

    def _write(self, record: Record) -> None:
        reply = pykka.ThreadingFuture()
        self.store.tell(Write((record,), reply))
        reply.get(timeout=self.timeout)
