"""The Hybrid store: SQLite is the record, Redis a best-effort copy for hot reads from any machine.

Writes: the SQLite commit makes a write done; then the committed runs are copied to Redis as
versioned snapshots (version = events + checkpoints of the run), so a late or repeated copy never
overwrites a newer one. A Redis failure is logged and counted, the runs are remembered and copied
again after the next commit, and Redis is left alone for `cooldown` seconds.

Reads of run status, events, the latest checkpoint, session history and tool effects try Redis
first and take its answer only when it is provably complete (the snapshot's counts match what
Redis holds); otherwise, or on a Redis error, they read SQLite and backfill Redis. Listings read
SQLite.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import redis
from loguru import logger

from agentstage.runtime.errors import StoreError
from agentstage.runtime.llm.types import ChatMessage
from agentstage.runtime.state.health import Health
from agentstage.runtime.state.mirror import MISS, RedisMirror
from agentstage.runtime.state.reader import Page, RunRow, SQLiteReader
from agentstage.runtime.state.records import Checkpoint, Event, Record, ToolEffect
from agentstage.runtime.state.redis_reader import RedisReader
from agentstage.runtime.state.sqlite import SQLiteWriter

__all__ = ["HybridReader", "HybridWriter"]

_MISS = MISS


class _Breaker:
    """Counts Redis failures and keeps Redis out of the way for `cooldown` seconds after one."""

    def __init__(self, cooldown: float) -> None:
        self.cooldown = cooldown
        self.failures = 0
        self.last_error: str | None = None
        self._closed_until = 0.0

    @property
    def open(self) -> bool:
        return time.monotonic() < self._closed_until

    def failed(self, exc: BaseException, doing: str) -> None:
        self.failures += 1
        self.last_error = str(exc)
        self._closed_until = time.monotonic() + self.cooldown
        logger.warning("redis {} failed ({} failures so far), using SQLite: {}", doing, self.failures, exc)

    def succeeded(self) -> None:
        self.last_error = None

    def health(self, client: redis.Redis, sqlite: Health) -> Health:
        details = {"redis_failures": self.failures}
        if not sqlite.ok:
            return Health("down", sqlite.reason, details)
        try:
            client.ping()
        except redis.RedisError as exc:
            return Health("degraded", f"redis unavailable: {exc}", details)
        return Health("ok", "", details)


class HybridWriter:
    """`SQLiteWriter` semantics, plus a best-effort Redis copy of each commit."""

    def __init__(self, sqlite: SQLiteWriter, client: redis.Redis, prefix: str, *, ttl: int = 0,
                 cooldown: float = 1.0) -> None:
        self.sqlite = sqlite
        self.client = client
        self.mirror = RedisMirror(client, prefix, ttl)
        self.breaker = _Breaker(cooldown)
        self.dirty: set[str] = set()
        self._fresh: list[Event] = []
        self._other: list[Record] = []

    @property
    def path(self) -> str:
        return self.sqlite.path

    @property
    def in_transaction(self) -> bool:
        return self.sqlite.in_transaction

    def begin(self) -> None:
        self.sqlite.begin()

    def apply_batch(self, records: Iterable[Record]) -> list[Event]:
        records = list(records)
        fresh = self.sqlite.apply_batch(records)
        self._fresh.extend(fresh)
        self._other.extend(r for r in records if isinstance(r, (Checkpoint, ToolEffect)))
        return fresh

    def commit(self) -> None:
        """Commit SQLite (errors propagate); then copy to Redis, whose errors are only logged and counted."""
        self.sqlite.commit()
        fresh, other = self._fresh, self._other
        self._fresh, self._other = [], []
        self._copy(fresh, other)

    def rollback(self) -> None:
        self._fresh, self._other = [], []
        self.sqlite.rollback()

    def write(self, records: Iterable[Record]) -> list[Event]:
        self.begin()
        try:
            fresh = self.apply_batch(records)
        except BaseException:
            self.rollback()
            raise
        self.commit()
        return fresh

    def _copy(self, fresh: list[Event], other: list[Record]) -> None:
        runs = {e.run_id for e in fresh} | {r.run_id for r in other if isinstance(r, Checkpoint)}
        if self.breaker.open:
            self.dirty |= runs
            return
        runs |= self.dirty
        sessions = {e.session_id for e in fresh if e.type in ("run.queued", "run.started")}
        try:
            self.mirror.copy(self.sqlite.connection, self.path, runs, sessions, fresh, other)
        except (redis.RedisError, StoreError) as exc:
            self.dirty = runs
            self.breaker.failed(exc, "copy")
            return
        self.dirty = set()
        self.breaker.succeeded()

    def health(self) -> Health:
        health = self.breaker.health(self.client, self.sqlite.health())
        return Health(health.status, health.reason, {**health.details, "redis_dirty_runs": len(self.dirty)})

    def close(self) -> None:
        self.sqlite.close()


class HybridReader:
    """Reads Redis first for hot data, SQLite otherwise; a miss or Redis error backfills Redis."""

    def __init__(self, sqlite: SQLiteReader, client: redis.Redis, prefix: str, *, ttl: int = 0,
                 cooldown: float = 1.0) -> None:
        self.sqlite = sqlite
        self.client = client
        self.redis = RedisReader(client, prefix)
        self.mirror = RedisMirror(client, prefix, ttl)
        self.breaker = _Breaker(cooldown)
        self.hits = 0
        self.misses = 0

    @property
    def path(self) -> str:
        return self.sqlite.path

    @property
    def connection(self) -> Any:
        """The SQLite connection, for queries over tables only the record has (items, admin)."""
        return self.sqlite.connection

    def __getattr__(self, name: str) -> Any:
        # Any other query of the SQLite reader (admin surfaces) reads the record.
        if name == "sqlite":
            raise AttributeError(name)
        return getattr(self.sqlite, name)

    def _try(self, read: Callable[[], Any], doing: str) -> Any:
        if self.breaker.open:
            return _MISS
        try:
            value = read()
        except (redis.RedisError, StoreError) as exc:
            self.breaker.failed(exc, doing)
            return _MISS
        if value is _MISS:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def _backfill(self, doing: str, action: Callable[[], None]) -> None:
        if self.breaker.open:
            return
        try:
            action()
        except (redis.RedisError, StoreError) as exc:
            self.breaker.failed(exc, doing)

    def get_run(self, run_id: str) -> RunRow:
        """The run with this id; raises NotFound."""
        row = self._try(lambda: self.mirror.cached_run(run_id), "get_run")
        if row is not _MISS:
            return row
        row = self.sqlite.get_run(run_id)
        self._backfill("backfill", lambda: self.mirror.backfill_runs(self.sqlite.connection, self.sqlite.path, [run_id]))
        return row

    def events(self, run_id: str, *, after_seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """A run's events in `seq` order, after `after_seq`."""
        events = self._try(lambda: self.mirror.cached_events(run_id, after_seq, limit), "events")
        if events is not _MISS:
            return events
        events = self.sqlite.events(run_id, after_seq=after_seq, limit=limit)
        self._backfill("backfill", lambda: self.mirror.backfill_events(self.sqlite.connection, self.sqlite.path,
                                                                       run_id, events))
        return events

    def checkpoint(self, run_id: str, step: int | None = None) -> dict[str, Any]:
        """One checkpoint with its state (the latest when `step` is None); raises NotFound."""
        found = self._try(lambda: self.mirror.cached_checkpoint(run_id, step), "checkpoint")
        if found is not _MISS:
            return found
        found = self.sqlite.checkpoint(run_id, step)
        self._backfill("backfill", lambda: self.mirror.backfill_checkpoint(self.sqlite.connection, self.sqlite.path,
                                                                           found))
        return found

    def session_history(self, session_id: str, *, max_turns: int = 50) -> tuple[ChatMessage, ...]:
        """The conversation of a session's completed agent runs, oldest first."""
        def cached() -> Any:
            if not self.mirror.session_complete(session_id):
                return _MISS
            return self.redis.session_history(session_id, max_turns=max_turns)

        history = self._try(cached, "session_history")
        if history is not _MISS:
            return history
        history = self.sqlite.session_history(session_id, max_turns=max_turns)
        self._backfill("backfill", lambda: self.mirror.backfill_session(self.sqlite.connection, self.sqlite.path,
                                                                        session_id))
        return history

    def tool_effect(self, key: str) -> tuple[bool, Any]:
        """`(True, result)` when the effect with this idempotency key completed before."""
        found = self._try(lambda: self.mirror.cached_effect(key), "tool_effect")
        if found is not _MISS:
            return found
        found = self.sqlite.tool_effect(key)
        if found[0]:
            self._backfill("backfill", lambda: self.mirror.backfill_effect(self.sqlite.connection, self.sqlite.path,
                                                                           key))
        return found

    def list_runs(self, **filters: Any) -> Page:
        return self.sqlite.list_runs(**filters)

    def list_sessions(self, *, limit: int = 50, cursor: str | None = None) -> Page:
        return self.sqlite.list_sessions(limit=limit, cursor=cursor)

    def checkpoints(self, run_id: str) -> list[dict[str, Any]]:
        return self.sqlite.checkpoints(run_id)

    def attempts(self, run_id: str) -> list[dict[str, Any]]:
        return self.sqlite.attempts(run_id)

    def queue_events(self, task_id: str) -> list[dict[str, Any]]:
        return self.sqlite.queue_events(task_id)

    def heartbeats(self) -> list[dict[str, Any]]:
        return self.sqlite.heartbeats()

    def count(self, table: str) -> int:
        return self.sqlite.count(table)

    def health(self) -> Health:
        health = self.breaker.health(self.client, self.sqlite.health())
        return Health(health.status, health.reason, {**health.details, "hits": self.hits, "misses": self.misses})

    def close(self) -> None:
        self.sqlite.close()
