"""Reads of the Hybrid store: Redis first for hot data, SQLite for the rest and whenever Redis cannot be trusted.

Run status, events, the latest checkpoint, session history and tool effects come from Redis
when its copy is provably complete (the snapshot's counts match what Redis holds) and not
pending in this process; otherwise, or on a Redis error, from SQLite, backfilling Redis.
Listings and every SQLite-only query read the record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from agentstage.runtime.errors import StoreError
from agentstage.runtime.llm.types import ChatMessage
from agentstage.runtime.state.fanout_state import fanout_of
from agentstage.runtime.state.health import Health
from agentstage.runtime.state.hybrid import Breaker, Pending
from agentstage.runtime.state.mirror import MISS, RedisMirror
from agentstage.runtime.state.reader import Page, RunRow, SQLiteReader
from agentstage.runtime.state.records import Event
from agentstage.runtime.state.redis_reader import RedisReader

__all__ = ["HybridReader"]


class HybridReader:
    """Reads Redis first for hot data, SQLite otherwise; a miss or Redis error backfills Redis."""

    def __init__(self, sqlite: SQLiteReader, client: redis.Redis, prefix: str, *, ttl: int = 0,
                 cooldown: float = 1.0, pending: Pending | None = None) -> None:
        self.sqlite = sqlite
        self.client = client
        self.redis = RedisReader(client, prefix)
        self.mirror = RedisMirror(client, prefix, ttl)
        self.breaker = Breaker(cooldown)
        self.pending = pending if pending is not None else Pending()
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

    def _try(self, read: Callable[[], Any], doing: str, key: str | None) -> Any:
        if self.breaker.open or key in self.pending:
            return MISS
        try:
            value = read()
        except (redis.RedisError, StoreError) as exc:
            self.breaker.failed(exc, doing)
            return MISS
        self.breaker.succeeded()
        if value is MISS:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def _backfill(self, doing: str, action: Callable[[], None], key: str | None) -> None:
        if self.breaker.open or key in self.pending:
            return
        try:
            action()
        except (redis.RedisError, StoreError) as exc:
            self.breaker.failed(exc, doing)

    def get_run(self, run_id: str) -> RunRow:
        """The run with this id; raises NotFound."""
        row = self._try(lambda: self.mirror.cached_run(run_id), "get_run", run_id)
        if row is not MISS:
            return row
        row = self.sqlite.get_run(run_id)
        self._backfill("backfill", lambda: self.mirror.backfill_runs(self.sqlite.connection, self.sqlite.path, [run_id]),
                       run_id)
        return row

    def events(self, run_id: str, *, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        """A run's events in `seq` order, after `after_seq`."""
        events = self._try(lambda: self.mirror.cached_events(run_id, after_seq, limit), "events", run_id)
        if events is not MISS:
            return events
        events = self.sqlite.events(run_id, after_seq=after_seq, limit=limit)
        self._backfill("backfill", lambda: self.mirror.backfill_events(self.sqlite.connection, self.sqlite.path,
                                                                       run_id, events), run_id)
        return events

    def checkpoint(self, run_id: str, step: int | None = None) -> dict[str, Any]:
        """One checkpoint with its state (the latest when `step` is None); raises NotFound."""
        found = self._try(lambda: self.mirror.cached_checkpoint(run_id, step), "checkpoint", run_id)
        if found is not MISS and fanout_of(found["state"]) is None:  # NOTE: a partial one is joined from SQLite
            return found
        found = self.sqlite.checkpoint(run_id, step)
        self._backfill("backfill", lambda: self.mirror.backfill_checkpoint(self.sqlite.connection, self.sqlite.path,
                                                                           found), run_id)
        return found

    def session_history(self, session_id: str, *, max_turns: int = 50) -> tuple[ChatMessage, ...]:
        """The conversation of a session's completed agent runs, oldest first."""
        def cached() -> Any:
            if not self.mirror.session_complete(session_id):
                return MISS
            return self.redis.session_history(session_id, max_turns=max_turns)

        history = self._try(cached, "session_history", f"session:{session_id}")
        if history is not MISS:
            return history
        history = self.sqlite.session_history(session_id, max_turns=max_turns)
        self._backfill("backfill", lambda: self.mirror.backfill_session(self.sqlite.connection, self.sqlite.path,
                                                                        session_id), f"session:{session_id}")
        return history

    def tool_effect(self, key: str) -> tuple[bool, Any]:
        """`(True, result)` when the effect with this idempotency key completed before."""
        found = self._try(lambda: self.mirror.cached_effect(key), "tool_effect", None)
        if found is not MISS:
            return found
        found = self.sqlite.tool_effect(key)
        if found[0]:
            self._backfill("backfill", lambda: self.mirror.backfill_effect(self.sqlite.connection, self.sqlite.path,
                                                                           key), None)
        return found

    def effect_intent(self, key: str) -> str | None:
        """Intents live in SQLite only (the record): a stale Redis copy must never hide one."""
        return self.sqlite.effect_intent(key)

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
