"""The Hybrid store: SQLite is the record, Redis a best-effort copy for hot reads from any machine.

Writes: the SQLite commit makes a write done. The commit then hands the touched runs to a copier
thread, which reads them back from its own read-only connection and copies them to Redis as
versioned snapshots (version = events + checkpoints of the run), so a late or repeated copy never
overwrites a newer one, and the writer never waits for Redis. A Redis failure is logged and
counted; the runs stay dirty and are copied again once Redis answers (after `cooldown` seconds).
Until its copy lands a run is "pending", and readers of this process read it from SQLite, so a
caller always reads its own writes. Reads: see `runtime/state/hybrid_reader.py`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

import redis

from agentstage.runtime._log import logger
from agentstage.runtime.errors import StoreError
from agentstage.runtime.state.health import Health
from agentstage.runtime.state.mirror import RedisMirror
from agentstage.runtime.state.records import Checkpoint, Event, Record, ToolEffect
from agentstage.runtime.state.sqlite import SQLiteWriter, open_connection

__all__ = ["Breaker", "HybridWriter", "Pending"]


class Breaker:
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
        if self.last_error is None:
            logger.warning("redis {} failed, using SQLite until it answers again: {}", doing, exc)
        self.failures += 1
        self.last_error = str(exc)
        self._closed_until = time.monotonic() + self.cooldown

    def succeeded(self) -> None:
        if self.last_error is not None:
            logger.info("redis answers again after {} failures", self.failures)
        self.last_error = None

    def health(self, client: redis.Redis, sqlite: Health) -> Health:
        details: dict[str, Any] = {"redis_failures": self.failures}
        if not sqlite.ok:
            return Health("down", sqlite.reason, details)
        try:
            client.ping()
        except redis.RedisError as exc:
            return Health("degraded", f"redis unavailable: {exc}", details)
        return Health("ok", "", details)


class Pending:
    """Runs and sessions committed to SQLite whose Redis copy has not landed yet (shared with readers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, keys: Iterable[str]) -> None:
        with self._lock:
            self._counts.update(keys)

    def remove(self, keys: Iterable[str] | Counter[str]) -> None:
        with self._lock:
            self._counts.subtract(keys)
            self._counts = +self._counts

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return self._counts.get(key, 0) > 0  # type: ignore[arg-type]


class HybridWriter:
    """`SQLiteWriter` semantics, plus a best-effort Redis copy of each commit made by a copier thread."""

    def __init__(self, sqlite: SQLiteWriter, client: redis.Redis, prefix: str, *, ttl: int = 0,
                 cooldown: float = 1.0, pending: Pending | None = None) -> None:
        self.sqlite = sqlite
        self.client = client
        self.mirror = RedisMirror(client, prefix, ttl)
        self.breaker = Breaker(cooldown)
        self.pending = pending if pending is not None else Pending()
        self.dirty: set[str] = set()
        self._held: Counter[str] = Counter()
        self._fresh: list[Event] = []
        self._other: list[Record] = []
        self._rolled_up: set[str] = set()
        self._jobs: list[tuple[list[Event], list[Record], set[str]]] = []
        self._busy = 0
        self._stopping = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._copier, name=f"state-copy:{sqlite.path}", daemon=True)
        self._thread.start()

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
        self._rolled_up |= self.sqlite.rolled_up
        self._other.extend(r for r in records if isinstance(r, (Checkpoint, ToolEffect)))
        return fresh

    def commit(self) -> None:
        """Commit SQLite (errors propagate), then queue the Redis copy; the caller never waits for Redis."""
        self.sqlite.commit()
        fresh, other, rolled_up = self._fresh, self._other, self._rolled_up
        self._fresh, self._other, self._rolled_up = [], [], set()
        keys = {e.run_id for e in fresh} | {r.run_id for r in other if isinstance(r, Checkpoint)} | rolled_up
        keys |= {f"session:{e.session_id}" for e in fresh}
        if not fresh and not other:
            return
        self.pending.add(keys)
        with self._cond:
            self._jobs.append((fresh, other, keys))
            self._cond.notify_all()

    def rollback(self) -> None:
        self._fresh, self._other, self._rolled_up = [], [], set()
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

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued copy was tried; True when nothing is left dirty."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self._jobs or self._busy) and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return not self._jobs and not self._busy and not self.dirty

    def _copier(self) -> None:
        connection = None
        while True:
            with self._cond:
                while not self._jobs and not self._stopping and not (self.dirty and not self.breaker.open):
                    self._cond.wait(self.breaker.cooldown if self.dirty else None)
                if self._stopping and not self._jobs:
                    break
                jobs, self._jobs = self._jobs, []
                self._busy += 1
            try:
                if connection is None:
                    connection = open_connection(self.path, readonly=True)
                self._copy(connection, jobs)
            except StoreError as exc:
                logger.error("cannot read the state file to copy it to Redis: {}", exc)
                self.dirty |= {k for _, _, keys in jobs for k in keys if not k.startswith("session:")}
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()
        if connection is not None:
            connection.close()

    def _copy(self, connection: Any, jobs: list[tuple[list[Event], list[Record], set[str]]]) -> None:
        fresh = [e for job in jobs for e in job[0]]
        other = [r for job in jobs for r in job[1]]
        keys = set().union(*(job[2] for job in jobs)) if jobs else set()
        runs = {k for k in keys if not k.startswith("session:")} | self.dirty
        self._held.update(keys)
        if self.breaker.open:
            self.dirty = runs
            return
        sessions = {e.session_id for e in fresh if e.type in ("run.queued", "run.started")}
        try:
            self.mirror.copy(connection, self.path, runs, sessions, fresh, other)
        except (redis.RedisError, StoreError) as exc:
            self.dirty = runs
            self.breaker.failed(exc, "copy")
            return
        self.breaker.succeeded()
        self.dirty = set()
        held, self._held = self._held, Counter()
        self.pending.remove(held)

    def health(self) -> Health:
        health = self.breaker.health(self.client, self.sqlite.health())
        return Health(health.status, health.reason, {**health.details, "redis_dirty_runs": len(self.dirty)})

    def close(self) -> None:
        """Finish queued copies (a few seconds at most), stop the copier, close SQLite."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=5.0)
        self.sqlite.close()
