"""SQLite through APSW: opening files safely, and the single writer that applies records.

Only the StoreActor holds a `SQLiteWriter` for a file in a process; everything else reads
through `SQLiteReader` connections (WAL lets them run beside the writer).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

import apsw

from agentstage.runtime.errors import NotFound, Refused, StoreError, StoreLockedError
from agentstage.runtime.state.checkpointer import BACKSTOP_PAGES, Checkpointer
from agentstage.runtime.state.health import Health
from agentstage.runtime.state.json_text import json_text, sorted_json_text
from agentstage.runtime.state.records import (
    ApiKey,
    AuditEntry,
    CatalogEntry,
    Checkpoint,
    EffectIntent,
    EvalCaseResult,
    EvalRun,
    Event,
    QueueEvent,
    Record,
    RunAttempt,
    Schedule,
    ScheduleFire,
    ScheduleRemoved,
    SessionItem,
    ToolEffect,
    USAGE_EVENTS,
    WorkerHeartbeat,
)
from agentstage.runtime.state.projection import MAX_ANCESTORS, parent_of
from agentstage.runtime.state.schema import migrate

__all__ = ["SQLiteWriter", "open_connection", "store_errors"]

_RUN_STATUS_BY_EVENT = {
    "run.queued": "queued",
    "run.started": "running",
    "run.waiting": "waiting",
    "run.resumed": "running",
    "run.completed": "completed",
    "run.failed": "failed",
    "run.cancelled": "cancelled",
}


def open_connection(path: str | os.PathLike[str], *, readonly: bool = False, busy_timeout_ms: int = 5000) -> apsw.Connection:
    """Open `path` with our pragmas (WAL, busy timeout, foreign keys); the writer also migrates.

    Raises `StoreError` naming the file when it is not a SQLite database or cannot be opened.
    """
    path = Path(path)
    try:
        if readonly:
            flags = apsw.SQLITE_OPEN_READONLY
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            flags = apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
        connection = apsw.Connection(str(path), flags=flags)
        connection.set_busy_timeout(busy_timeout_ms)
        _apply_best_practice(connection)
        if not readonly:
            _enable_wal(connection, busy_timeout_ms)
            connection.pragma("synchronous", "NORMAL")
            # PERF: a batch's savepoint journal stays in memory; past 64 KiB it was a temp file opened, written
            # and deleted for every larger batch
            connection.pragma("temp_store", "MEMORY")
            migrate(connection)
            connection.transaction_mode = "IMMEDIATE"
        else:
            connection.pragma("query_only", True)
            connection.execute("SELECT count(*) FROM sqlite_schema").get
    except (apsw.Error, OSError, RuntimeError) as exc:
        reason = _unusable(path, readonly)
        raise (StoreError(str(path), reason) if reason else _translate(str(path), exc)) from None
    return connection


def _apply_best_practice(connection: apsw.Connection) -> None:
    """apsw.bestpractice's connection_dqs, connection_enable_foreign_keys and connection_recursive_triggers.

    PERF: done here because importing apsw.bestpractice imports apsw.ext, 15-30 ms of every CLI start.
    """
    connection.config(apsw.SQLITE_DBCONFIG_DQS_DML, 0)
    connection.config(apsw.SQLITE_DBCONFIG_DQS_DDL, 0)
    connection.pragma("foreign_keys", "ON")
    connection.pragma("recursive_triggers", "ON")


def _unusable(path: Path, readonly: bool) -> str | None:
    """Why `path` cannot be opened, when the file system says so plainly (a directory, read-only, no write access)."""
    if path.is_dir():
        return f"is a directory, not a database file (name a file in it, such as {path / 'agentstage.db'})"
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    if folder is None or readonly:
        return None
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        return f"{folder} is on a read-only file system"
    if not os.access(folder, os.W_OK):
        return f"no permission to write in {folder}"
    return None


def _enable_wal(connection: apsw.Connection, busy_timeout_ms: int) -> None:
    """Switch to WAL, waiting up to the busy timeout for processes that open the same fresh file at once.

    NOTE: SQLite does not call the busy handler for a journal mode change, so this retries itself.
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            if not connection.readonly("main"):
                connection.pragma("journal_mode", "wal")
            return
        except apsw.ReadOnlyError:  # NOTE: as apsw.bestpractice.connection_wal: the journal may be read-only
            return
        except apsw.BusyError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


class store_errors:
    """Context manager turning APSW errors into `StoreError`s naming the file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None and isinstance(exc, (apsw.Error, OSError)):
            raise _translate(self.path, exc) from None
        return False


def _translate(path: str, exc: BaseException) -> StoreError:
    if isinstance(exc, apsw.BusyError):
        return StoreLockedError(path, "database is locked by another writer")
    if isinstance(exc, apsw.NotADBError):
        return StoreError(path, "file is not a SQLite database")
    if isinstance(exc, apsw.CorruptError):
        return StoreError(path, "database file is corrupt")
    if isinstance(exc, apsw.CantOpenError):
        return StoreError(path, "cannot open the database file")
    return StoreError(path, str(exc))


class SQLiteWriter:
    """Applies records to one SQLite file; idempotent per record's natural key.

    `apply_batch` writes records in a savepoint, so a bad record never leaves half a batch;
    `begin`/`commit` let the StoreActor group several batches into one transaction.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_ms: int = 5000) -> None:
        self.path = str(path)
        self.connection = open_connection(path, busy_timeout_ms=busy_timeout_ms)
        self._in_transaction = False
        self._tokens: dict[tuple[str, str], list[int]] = {}
        self.rolled_up: set[str] = set()
        """Runs whose token totals the last `apply_batch` changed, ancestors included (copied by the hybrid store)."""
        # PERF: the log is copied back by a thread of its own; the writer checkpoints itself only far behind
        self.connection.pragma("wal_autocheckpoint", BACKSTOP_PAGES)
        self.checkpointer = Checkpointer(self.path, self)
        self.checkpointer.start()

    def close(self) -> None:
        self.checkpointer.stop()
        if self._in_transaction:
            self.rollback()
        self.connection.close()

    def begin(self) -> None:
        with store_errors(self.path):
            self.connection.execute("BEGIN IMMEDIATE")
        self._in_transaction = True

    def commit(self) -> None:
        with store_errors(self.path):
            self.connection.execute("COMMIT")
        self._in_transaction = False

    def rollback(self) -> None:
        with store_errors(self.path):
            if not self.connection.in_transaction:
                self._in_transaction = False
                return
            self.connection.execute("ROLLBACK")
        self._in_transaction = False

    @property
    def in_transaction(self) -> bool:
        return self._in_transaction

    def health(self) -> Health:
        """`ok` while the file answers a query, else `down` with the reason."""
        try:
            with store_errors(self.path):
                self.connection.execute("SELECT 1").get
        except StoreError as exc:
            return Health("down", str(exc))
        return Health("ok")

    def write(self, records: Iterable[Record]) -> list[Event]:
        """Write records in their own transaction; returns the events that were new."""
        self.begin()
        try:
            fresh = self.apply_batch(records)
        except BaseException:
            self.rollback()
            raise
        self.commit()
        return fresh

    def apply_batch(self, records: Iterable[Record]) -> list[Event]:
        """Apply records inside the open transaction, all or none; returns the new events."""
        cursor = self.connection.cursor()
        fresh: list[Event] = []
        with store_errors(self.path):
            cursor.execute("SAVEPOINT batch")
            self._tokens = {}
            self.rolled_up = set()
            try:
                for record in records:
                    if self._apply(cursor, record):
                        fresh.append(record)
                self._add_tokens(cursor)
            except BaseException:
                self._tokens = {}
                cursor.execute("ROLLBACK TO batch; RELEASE batch")
                raise
            cursor.execute("RELEASE batch")
        return fresh

    def _add_tokens(self, cursor: apsw.Cursor) -> None:
        """Add the batch's new usage-event tokens to their runs and every ancestor (a delegation inside a graph
        node counts for the node's run and the graph run): one UPDATE per run, not per call.

        PERF: the run's own row is one plain UPDATE that names its parent; the recursive walk runs only for a
        run that has one (most runs have none, and the walk cost a quarter of a no-op run's writes).
        """
        tokens, self._tokens = self._tokens, {}
        for (run_id, parent), (input_tokens, output_tokens) in tokens.items():
            cursor.execute("UPDATE runs SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?"
                           " WHERE run_id = ? RETURNING parent_run_id", (input_tokens, output_tokens, run_id))
            stored = [row[0] for row in cursor]
            if stored:
                self.rolled_up.add(run_id)
            first = parent if parent != run_id else (stored[0] if stored else None)
            if first is None:
                continue
            cursor.execute(
                "WITH RECURSIVE up(id, depth) AS (SELECT ?, 1 UNION ALL SELECT r.parent_run_id, up.depth + 1"
                "  FROM runs r JOIN up ON r.run_id = up.id WHERE r.parent_run_id IS NOT NULL AND up.depth < ?)"
                " UPDATE runs SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?"
                " WHERE run_id IN (SELECT id FROM up) AND run_id != ? RETURNING run_id",
                (first, MAX_ANCESTORS, input_tokens, output_tokens, run_id),
            )
            self.rolled_up.update(row[0] for row in cursor)

    def _apply(self, cursor: apsw.Cursor, record: Record) -> bool:
        handler = _HANDLERS.get(type(record))
        if handler is None:
            raise TypeError(f"cannot store {type(record).__name__}")
        return handler(self, cursor, record)

    def _event(self, cursor: apsw.Cursor, e: Event) -> bool:
        cursor.execute(
            "INSERT INTO events(run_id, seq, type, ts, session_id, node, tool, provider, duration_ms, error, data)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (e.run_id, e.seq, e.type, e.ts, e.session_id, e.node, e.tool, e.provider, e.duration_ms, e.error,
             json_text(e.data)),
        )
        if not self.connection.changes():
            return False
        self._project(cursor, e)
        return True

    def _project(self, cursor: apsw.Cursor, e: Event) -> None:
        status = _RUN_STATUS_BY_EVENT.get(e.type)
        if e.type in ("run.queued", "run.started"):
            d = e.data
            cursor.execute(
                "INSERT INTO sessions(session_id, created_at, updated_at) VALUES (?,?,?)"
                " ON CONFLICT(session_id) DO UPDATE SET updated_at = excluded.updated_at",
                (e.session_id, e.ts, e.ts),
            )
            cursor.execute(
                "INSERT INTO runs(run_id, session_id, kind, agent, workflow, provider, model, status, input,"
                " attempt, worker_id, parent_run_id, metadata, last_seq, created_at, started_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(run_id) DO UPDATE SET"
                "  status = CASE WHEN runs.last_seq < excluded.last_seq THEN excluded.status ELSE runs.status END,"
                "  last_seq = max(runs.last_seq, excluded.last_seq),"
                "  provider = coalesce(excluded.provider, runs.provider),"
                "  model = coalesce(excluded.model, runs.model),"
                "  attempt = max(runs.attempt, excluded.attempt),"
                "  worker_id = coalesce(excluded.worker_id, runs.worker_id),"
                "  started_at = coalesce(runs.started_at, excluded.started_at),"
                "  ended_at = CASE WHEN runs.last_seq < excluded.last_seq THEN NULL ELSE runs.ended_at END,"
                "  error = CASE WHEN runs.last_seq < excluded.last_seq THEN NULL ELSE runs.error END,"
                "  updated_at = excluded.updated_at",
                (e.run_id, e.session_id, d.get("kind", "agent"), d.get("agent"), d.get("workflow"), e.provider,
                 d.get("model"), status, d.get("input", ""), d.get("attempt", 1), d.get("worker_id"),
                 d.get("parent_run_id"), json_text(d.get("metadata", {})), e.seq, e.ts,
                 e.ts if status == "running" else None, e.ts),
            )
            return
        if e.type in USAGE_EVENTS and e.data.get("usage"):
            usage = e.data["usage"]
            # NOTE: a child run's tokens count for its parent (a graph run) too; once, as the event is new.
            # PERF: summed per run and added at the end of the batch (`_add_tokens`).
            total = self._tokens.setdefault((e.run_id, parent_of(e) or e.run_id), [0, 0])
            total[0] += int(usage.get("input_tokens") or 0)
            total[1] += int(usage.get("output_tokens") or 0)
        if status is None:
            return
        terminal = status in ("completed", "failed", "cancelled")
        cursor.execute(
            "UPDATE runs SET status = ?, last_seq = ?, updated_at = ?,"
            " output = coalesce(?, output), error = CASE WHEN ? = 'running' THEN NULL ELSE coalesce(?, error) END,"
            " ended_at = CASE WHEN ? THEN ? ELSE NULL END"
            " WHERE run_id = ? AND last_seq < ?",
            (status, e.seq, e.ts, e.data.get("output"), status, e.error, terminal, e.ts, e.run_id, e.seq),
        )

    def _checkpoint(self, cursor: apsw.Cursor, c: Checkpoint) -> bool:
        state = json_text(c.state)
        cursor.execute(
            "INSERT INTO checkpoints(run_id, step, node, next_node, state, state_bytes, version, created_at)"
            " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (c.run_id, c.step, c.node, c.next_node, state, len(state.encode()), c.version, c.ts),
        )
        return False

    def _attempt(self, cursor: apsw.Cursor, a: RunAttempt) -> bool:
        cursor.execute(
            "INSERT INTO run_attempts(run_id, attempt, task_id, worker_id, status, started_at, ended_at, error,"
            " claimed_at, acked_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(run_id, attempt) DO UPDATE SET"
            "  status = CASE WHEN run_attempts.ended_at IS NULL THEN excluded.status ELSE run_attempts.status END,"
            "  worker_id = CASE WHEN excluded.worker_id != '' THEN excluded.worker_id ELSE run_attempts.worker_id END,"
            "  task_id = CASE WHEN excluded.task_id != '' THEN excluded.task_id ELSE run_attempts.task_id END,"
            "  ended_at = coalesce(run_attempts.ended_at, excluded.ended_at),"
            "  error = coalesce(run_attempts.error, excluded.error),"
            "  claimed_at = coalesce(run_attempts.claimed_at, excluded.claimed_at),"
            "  acked_at = coalesce(run_attempts.acked_at, excluded.acked_at)",
            (a.run_id, a.attempt, a.task_id, a.worker_id, a.status, a.started_at, a.ended_at, a.error, a.claimed_at,
             a.acked_at),
        )
        return False

    def _heartbeat(self, cursor: apsw.Cursor, h: WorkerHeartbeat) -> bool:
        cursor.execute(
            "INSERT INTO worker_heartbeats(worker_id, host, pid, started_at, last_seen, in_flight, concurrency, status)"
            " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(worker_id) DO UPDATE SET"
            "  host = excluded.host, pid = excluded.pid, started_at = excluded.started_at,"
            "  last_seen = excluded.last_seen, in_flight = excluded.in_flight,"
            "  concurrency = excluded.concurrency, status = excluded.status"
            " WHERE excluded.last_seen >= worker_heartbeats.last_seen",
            (h.worker_id, h.host, h.pid, h.started_at, h.last_seen, h.in_flight, h.concurrency, h.status),
        )
        return False

    def _queue_event(self, cursor: apsw.Cursor, q: QueueEvent) -> bool:
        cursor.execute(
            "INSERT INTO queue_events(task_id, attempt, kind, ts, run_id, detail) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT DO NOTHING",
            (q.task_id, q.attempt, q.kind, q.ts, q.run_id, json_text(q.detail)),
        )
        return False

    def _effect(self, cursor: apsw.Cursor, t: ToolEffect) -> bool:
        cursor.execute(
            "INSERT INTO tool_effects(key, run_id, tool, result, created_at) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
            (t.key, t.run_id, t.tool, json_text(t.result), t.ts),
        )
        cursor.execute("DELETE FROM effect_intents WHERE key = ?", (t.key,))
        return False

    def _intent(self, cursor: apsw.Cursor, i: EffectIntent) -> bool:
        cursor.execute(
            "INSERT INTO effect_intents(key, run_id, owner, started_at) SELECT ?, ?, ?, ?"
            " WHERE NOT EXISTS (SELECT 1 FROM tool_effects WHERE key = ?) ON CONFLICT DO NOTHING",
            (i.key, i.run_id, i.owner, i.ts, i.key),
        )
        return False

    def _api_key(self, cursor: apsw.Cursor, k: ApiKey) -> bool:
        cursor.execute(
            "INSERT INTO api_keys(id, prefix, key_hash, role, name, created_at, expires_at, revoked_at, last_used_at)"
            " VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
            "  revoked_at = coalesce(api_keys.revoked_at, excluded.revoked_at),"
            "  last_used_at = CASE WHEN excluded.last_used_at > coalesce(api_keys.last_used_at, '')"
            "   THEN excluded.last_used_at ELSE api_keys.last_used_at END",
            (k.id, k.prefix, k.key_hash, k.role, k.name, k.created_at, k.expires_at, k.revoked_at, k.last_used_at),
        )
        return False

    def _audit(self, cursor: apsw.Cursor, a: AuditEntry) -> bool:
        cursor.execute(
            "INSERT INTO audit_log(id, ts, key_id, role, action, target, request_id, client, outcome, detail)"
            " VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (a.id, a.ts, a.key_id, a.role, a.action, a.target, a.request_id, a.client, a.outcome,
             json_text(a.detail)),
        )
        return False

    def _session_item(self, cursor: apsw.Cursor, item: SessionItem) -> bool:
        if item.value is None:
            cursor.execute("DELETE FROM session_items WHERE session_id = ? AND namespace = ? AND key = ?",
                           (item.session_id, item.namespace, item.key))
            return False
        cursor.execute(
            "INSERT INTO session_items(session_id, namespace, key, value, expires_at, updated_at)"
            " VALUES (?,?,?,?,?,?) ON CONFLICT(session_id, namespace, key) DO UPDATE SET"
            "  value = excluded.value, expires_at = excluded.expires_at, updated_at = excluded.updated_at",
            (item.session_id, item.namespace, item.key, json_text(item.value), item.expires_at, item.ts),
        )
        return False

    def _catalog_entry(self, cursor: apsw.Cursor, entry: CatalogEntry) -> bool:
        if entry.body is None:
            cursor.execute("DELETE FROM catalog_entries WHERE kind = ? AND name = ?", (entry.kind, entry.name))
            return False
        cursor.execute(
            "INSERT INTO catalog_entries(kind, name, body, created_at, updated_at) VALUES (?,?,?,?,?)"
            " ON CONFLICT(kind, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            (entry.kind, entry.name, sorted_json_text(entry.body), entry.ts, entry.ts),
        )
        return False

    def _eval_run(self, cursor: apsw.Cursor, run: EvalRun) -> bool:
        cursor.execute(
            "INSERT INTO eval_runs(eval_id, dataset, agent, status, started_at, ended_at, cases, passed, pass_rate,"
            " fail_under, options, summary, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(eval_id) DO UPDATE SET status = excluded.status, ended_at = excluded.ended_at,"
            "  cases = excluded.cases, passed = excluded.passed, pass_rate = excluded.pass_rate,"
            "  summary = excluded.summary, error = excluded.error WHERE eval_runs.ended_at IS NULL",
            (run.eval_id, run.dataset, run.agent, run.status, run.started_at, run.ended_at, run.cases, run.passed,
             run.pass_rate, run.fail_under, json_text(run.options), json_text(run.summary),
             run.error),
        )
        return False

    def _eval_case(self, cursor: apsw.Cursor, case: EvalCaseResult) -> bool:
        cursor.execute(
            "INSERT INTO eval_cases(eval_id, case_id, position, status, run_id, result, updated_at)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT(eval_id, case_id) DO UPDATE SET position = excluded.position,"
            "  status = excluded.status, run_id = excluded.run_id, result = excluded.result,"
            "  updated_at = excluded.updated_at",
            (case.eval_id, case.case_id, case.position, case.status, case.run_id,
             json_text(case.result), case.ts),
        )
        return False

    def _schedule(self, cursor: apsw.Cursor, s: Schedule) -> bool:
        if s.condition == "update":
            cursor.execute("SELECT 1 FROM schedules WHERE name = ?", (s.name,))
            if cursor.fetchone() is None:
                raise NotFound("schedule", s.name)
        on_conflict = (" ON CONFLICT(name) DO NOTHING" if s.condition == "create" else
                       " ON CONFLICT(name) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone,"
                       "  every_s = excluded.every_s, agent = excluded.agent, workflow = excluded.workflow,"
                       "  input = excluded.input, enabled = excluded.enabled, grace_s = excluded.grace_s,"
                       "  config = excluded.config, since = excluded.since, updated_at = excluded.updated_at")
        cursor.execute(
            "INSERT INTO schedules(name, cron, timezone, every_s, agent, workflow, input, enabled, grace_s, config,"
            " since, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)" + on_conflict,
            (s.name, s.cron, s.timezone, s.every_s, s.agent, s.workflow, s.input, int(s.enabled), s.grace_s,
             json_text(s.config), s.since, s.created_at, s.updated_at),
        )
        if s.condition == "create" and not self.connection.changes():
            raise Refused(s.name, f"a schedule named {s.name!r} exists", field="name")
        return False

    def _schedule_removed(self, cursor: apsw.Cursor, r: ScheduleRemoved) -> bool:
        cursor.execute("DELETE FROM schedules WHERE name = ?", (r.name,))
        cursor.execute("DELETE FROM schedule_fires WHERE name = ?", (r.name,))
        return False

    def _schedule_fire(self, cursor: apsw.Cursor, f: ScheduleFire) -> bool:
        # NOTE: the claim is first-writer-wins inside the writer's IMMEDIATE transaction, which serialises
        # every process writing this file: two schedulers claiming one tick find one owner when they read back.
        cursor.execute(
            "INSERT INTO schedule_fires(name, tick, trigger, owner, status, run_id, error, detail, claimed_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(name, tick) DO UPDATE SET owner = excluded.owner, status = excluded.status,"
            "  run_id = CASE WHEN excluded.run_id != '' THEN excluded.run_id ELSE schedule_fires.run_id END,"
            "  error = excluded.error, detail = excluded.detail, updated_at = excluded.updated_at,"
            "  claimed_at = CASE WHEN schedule_fires.owner = excluded.owner THEN schedule_fires.claimed_at"
            "   ELSE excluded.claimed_at END"
            " WHERE schedule_fires.owner = excluded.owner"
            "  OR (schedule_fires.status = 'claimed' AND schedule_fires.updated_at < ?)",
            (f.name, f.tick, f.trigger, f.owner, f.status, f.run_id, f.error, json_text(f.detail),
             f.ts, f.ts, f.steal_before),
        )
        return False


_HANDLERS = {
    Event: SQLiteWriter._event,
    Checkpoint: SQLiteWriter._checkpoint,
    RunAttempt: SQLiteWriter._attempt,
    WorkerHeartbeat: SQLiteWriter._heartbeat,
    QueueEvent: SQLiteWriter._queue_event,
    ToolEffect: SQLiteWriter._effect,
    EffectIntent: SQLiteWriter._intent,
    ApiKey: SQLiteWriter._api_key,
    AuditEntry: SQLiteWriter._audit,
    SessionItem: SQLiteWriter._session_item,
    CatalogEntry: SQLiteWriter._catalog_entry,
    EvalRun: SQLiteWriter._eval_run,
    EvalCaseResult: SQLiteWriter._eval_case,
    Schedule: SQLiteWriter._schedule,
    ScheduleRemoved: SQLiteWriter._schedule_removed,
    ScheduleFire: SQLiteWriter._schedule_fire,
}
