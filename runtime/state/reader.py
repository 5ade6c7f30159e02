"""Read-only queries over a store file: runs, events, sessions, checkpoints, effects.

Each `SQLiteReader` owns one read-only connection; open one per thread (API workers, CLI).
Listings use keyset pagination: pass back the `next_cursor` a page returned.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agentstage.runtime.errors import NotFound, StoreError
from agentstage.runtime.llm.types import ChatMessage
from agentstage.runtime.state.health import Health
from agentstage.runtime.state.fanout_state import merged
from agentstage.runtime.state.records import Event, ToolEffect
from agentstage.runtime.state.sqlite import open_connection, store_errors

__all__ = ["QUEUE_KIND_RANK", "Page", "RunRow", "SQLiteReader", "decode_cursor", "encode_cursor",
           "queue_transitions_sql"]


EVENT_COLUMNS = "run_id, seq, type, ts, session_id, node, tool, provider, duration_ms, error, data"
"""The columns `SQLiteReader._event` reads, in its order."""


@dataclass(frozen=True, slots=True)
class RunRow:
    """A run as stored: the projection of its events."""

    run_id: str
    session_id: str
    kind: str
    agent: str | None
    workflow: str | None
    provider: str | None
    model: str | None
    status: str
    input: str
    output: str | None
    error: str | None
    input_tokens: int
    output_tokens: int
    attempt: int
    worker_id: str | None
    parent_run_id: str | None
    metadata: dict[str, Any]
    last_seq: int
    created_at: str
    started_at: str | None
    updated_at: str
    ended_at: str | None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing and the cursor of the next page (None on the last)."""

    items: list[Any]
    next_cursor: str | None


_RUN_COLUMNS = ", ".join(RunRow.__dataclass_fields__)
_ATTEMPT_KEYS = ("run_id", "attempt", "task_id", "worker_id", "status", "started_at", "ended_at", "error")
_QUEUE_KEYS = ("task_id", "attempt", "kind", "ts", "run_id")
_HEARTBEAT_KEYS = ("worker_id", "host", "pid", "started_at", "last_seen", "in_flight", "concurrency", "status")


def encode_cursor(*values: Any) -> str:
    """An opaque, URL-safe keyset cursor."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """Decode `encode_cursor` output; raises ValueError for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("malformed cursor") from exc
    if not isinstance(values, list) or len(values) != arity or not all(isinstance(v, str) for v in values):
        raise ValueError("malformed cursor")
    return values


QUEUE_KIND_RANK = "CASE kind WHEN 'enqueued' THEN 0 WHEN 'requeued' THEN 0 WHEN 'claimed' THEN 1 ELSE 2 END"
"""SQL ordering queue transitions that share a timestamp in the order they happen."""


def queue_transitions_sql(claimed: str, acked: str, events: str) -> str:
    """SQL of queue-event rows (task_id, attempt, kind, ts, run_id, detail): the `queue_events` rows matching
    `events`, and the `claimed` and `acked` transitions kept on attempt rows (`RunAttempt.claimed_at`,
    `acked_at`) of the attempts `a` matching `claimed` and `acked`. A transition also stored as a queue event
    (a file written before they moved) is read from there only."""
    def kept(kind: str) -> str:
        return (f" AND NOT EXISTS (SELECT 1 FROM queue_events q WHERE q.task_id = a.task_id AND q.attempt = a.attempt"
                f" AND q.kind = '{kind}')")

    return ("SELECT a.task_id, a.attempt, 'claimed' AS kind, a.claimed_at AS ts, a.run_id,"
            " json_object('worker_id', a.worker_id) AS detail FROM run_attempts a"
            f" WHERE a.claimed_at IS NOT NULL AND {claimed}{kept('claimed')}"
            " UNION ALL SELECT a.task_id, a.attempt, 'acked', a.acked_at, a.run_id,"
            " json_object('status', a.status, 'worker_id', a.worker_id) FROM run_attempts a"
            f" WHERE a.acked_at IS NOT NULL AND {acked}{kept('acked')}"
            f" UNION ALL SELECT task_id, attempt, kind, ts, run_id, detail FROM queue_events WHERE {events}")


_OF_TASK = ("a.run_id IN (SELECT run_id FROM queue_events WHERE task_id = ?1 UNION SELECT ?1)"
            " AND a.task_id = ?1")
"""A task's attempts through its run (a first attempt's task id is its run id; every task's other
transitions name its run), so no index on the attempts' task id is needed."""


class SQLiteReader:
    """Read-only view of a store file; safe beside the writer thanks to WAL."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self.connection = open_connection(path, readonly=True)

    def close(self) -> None:
        self.connection.close()

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with store_errors(self.path):
            return list(self.connection.execute(sql, params))

    def get_run(self, run_id: str) -> RunRow:
        """The run with this id; raises NotFound."""
        rows = self._rows(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,))
        if not rows:
            raise NotFound("run", run_id)
        return self._run_row(rows[0])

    def children(self, run_id: str) -> list[tuple[str, int]]:
        """The agent runs a graph run's nodes started (ids `run_id.step[.branch]`), with their attempts."""
        # NOTE: a range of the primary key (ids that start with `run_id.`), not a scan of every run
        rows = self._rows("SELECT run_id, attempt FROM runs WHERE run_id > ? AND run_id < ? AND parent_run_id = ?",
                          (f"{run_id}.", f"{run_id}/", run_id))
        return [(row[0], int(row[1])) for row in rows]

    def list_runs(
        self,
        *,
        status: str | None = None,
        session_id: str | None = None,
        workflow: str | None = None,
        worker_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """Runs newest first, filtered; raises ValueError for a malformed cursor."""
        filters = (("status", status), ("session_id", session_id), ("workflow", workflow), ("worker_id", worker_id))
        return self._runs(filters, since, until, limit, cursor, "desc")

    def _runs(self, filters: Iterable[tuple[str, Any]], since: str | None, until: str | None, limit: int,
              cursor: str | None, order: str, conditions: Iterable[tuple[str, tuple]] = ()) -> Page:
        raw, more = self.keyset_rows(f"SELECT {_RUN_COLUMNS} FROM runs", filters, "created_at", since, until,
                                     ("created_at", "run_id"), cursor, order, limit, conditions)
        rows = [self._run_row(r) for r in raw]
        return Page(rows, encode_cursor(rows[-1].created_at, rows[-1].run_id) if more else None)

    def keyset_rows(self, select: str, filters: Iterable[tuple[str, Any]], time_column: str, since: str | None,
                    until: str | None, key: tuple[str, str], cursor: str | None, order: str,
                    limit: int, conditions: Iterable[tuple[str, tuple]] = ()) -> tuple[list[tuple], bool]:
        """One keyset page of `select`: equal `filters` (None skipped), a time range, further SQL
        `conditions` (each a fragment and its parameters), ordered by `key`.

        Returns the page's rows and whether more follow; ValueError for a malformed cursor.
        """
        where, params = [], []
        for fragment, values in conditions:
            where.append(f"({fragment})")
            params.extend(values)
        for column, value in filters:
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append(f"{time_column} >= ?")
            params.append(since)
        if until is not None:
            where.append(f"{time_column} < ?")
            params.append(until)
        if cursor is not None:
            where.append(f"({key[0]}, {key[1]}) {'<' if order == 'desc' else '>'} (?, ?)")
            params.extend(decode_cursor(cursor, 2))
        direction = "DESC" if order == "desc" else "ASC"
        sql = select + (" WHERE " + " AND ".join(where) if where else "")
        sql += f" ORDER BY {key[0]} {direction}, {key[1]} {direction} LIMIT ?"
        rows = self._rows(sql, (*params, limit + 1))
        return rows[:limit], len(rows) > limit

    def events(self, run_id: str, *, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        """A run's events in `seq` order, after `after_seq`."""
        rows = self._rows(f"SELECT {EVENT_COLUMNS} FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                          (run_id, after_seq, limit))
        return [self._event(r) for r in rows]

    def session_history(self, session_id: str, *, max_turns: int = 50) -> tuple[ChatMessage, ...]:
        """The conversation of a session's completed runs, oldest first, as user/assistant turns."""
        rows = self._rows(
            "SELECT input, output FROM (SELECT input, output, created_at, rowid AS arrival FROM runs"
            " WHERE session_id = ? AND status = 'completed' AND kind = 'agent'"
            " ORDER BY created_at DESC, arrival DESC LIMIT ?) ORDER BY created_at, arrival",
            (session_id, max_turns),
        )
        history: list[ChatMessage] = []
        for prompt, output in rows:
            history.append(ChatMessage("user", prompt))
            history.append(ChatMessage("assistant", output or ""))
        return tuple(history)

    def list_sessions(self, *, limit: int = 50, cursor: str | None = None) -> Page:
        """Sessions most recently active first, with their run counts."""
        params: list[Any] = []
        where = ""
        if cursor is not None:
            updated_at, session_id = decode_cursor(cursor, 2)
            where = " WHERE (s.updated_at, s.session_id) < (?, ?)"
            params.extend((updated_at, session_id))
        rows = self._rows(
            "SELECT s.session_id, s.created_at, s.updated_at,"
            " (SELECT count(*) FROM runs r WHERE r.session_id = s.session_id)"
            f" FROM sessions s{where} ORDER BY s.updated_at DESC, s.session_id DESC LIMIT ?",
            (*params, limit + 1),
        )
        items = [dict(session_id=r[0], created_at=r[1], updated_at=r[2], runs=r[3]) for r in rows]
        next_cursor = encode_cursor(items[limit - 1]["updated_at"], items[limit - 1]["session_id"]) if len(items) > limit else None
        return Page(items[:limit], next_cursor)

    def checkpoints(self, run_id: str) -> list[dict[str, Any]]:
        """A run's checkpoints in step order, without their state."""
        rows = self._rows(
            "SELECT step, node, next_node, state_bytes, version, created_at FROM checkpoints"
            " WHERE run_id = ? ORDER BY step",
            (run_id,),
        )
        keys = ("step", "node", "next_node", "state_bytes", "version", "created_at")
        return [dict(zip(keys, r), run_id=run_id) for r in rows]

    def checkpoint(self, run_id: str, step: int | None = None) -> dict[str, Any]:
        """One checkpoint with its state (the latest when `step` is None); raises NotFound."""
        sql = "SELECT step, node, next_node, state_bytes, version, created_at, state FROM checkpoints WHERE run_id = ?"
        params: tuple = (run_id,)
        if step is None:
            sql += " ORDER BY step DESC LIMIT 1"
        else:
            sql += " AND step = ?"
            params = (run_id, step)
        rows = self._rows(sql, params)
        if not rows:
            raise NotFound("checkpoint", f"{run_id}@{'latest' if step is None else step}")
        return merged(self._checkpoint_row(run_id, rows[0]), lambda first, last: [
            self._checkpoint_row(run_id, row) for row in self._rows(
                "SELECT step, node, next_node, state_bytes, version, created_at, state FROM checkpoints"
                " WHERE run_id = ? AND step BETWEEN ? AND ?", (run_id, first, last))])

    def _checkpoint_row(self, run_id: str, row: tuple) -> dict[str, Any]:
        keys = ("step", "node", "next_node", "state_bytes", "version", "created_at")
        return dict(zip(keys, row[:6]), run_id=run_id, state=self._json(row[6], f"checkpoints row ({run_id}, {row[0]})"))

    def tool_effect(self, key: str) -> tuple[bool, Any]:
        """`(True, result)` when the effect with this idempotency key completed before."""
        rows = self._rows("SELECT result FROM tool_effects WHERE key = ?", (key,))
        return (True, self._json(rows[0][0], f"tool_effects row {key}")) if rows else (False, None)

    def effects_since(self, ts: str, *, after_key: str = "", limit: int = 1000) -> list[ToolEffect]:
        """Completed effects recorded at or after `ts`, in key order after `after_key` (a page of `limit`)."""
        rows = self._rows("SELECT key, run_id, tool, result, created_at FROM tool_effects"
                          " WHERE created_at >= ? AND key > ? ORDER BY key LIMIT ?", (ts, after_key, limit))
        return [ToolEffect(key, run_id, tool, self._json(result, f"tool_effects row {key}"), created)
                for key, run_id, tool, result, created in rows]

    def effect_intent(self, key: str) -> str | None:
        """The owner of a started side-effecting call that has no recorded outcome, else None."""
        rows = self._rows("SELECT owner FROM effect_intents WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def attempts(self, run_id: str) -> list[dict[str, Any]]:
        """A run's attempts in order."""
        rows = self._rows("SELECT run_id, attempt, task_id, worker_id, status, started_at, ended_at, error"
                          " FROM run_attempts WHERE run_id = ? ORDER BY attempt", (run_id,))
        return [dict(zip(_ATTEMPT_KEYS, r)) for r in rows]

    def queue_events(self, task_id: str) -> list[dict[str, Any]]:
        """A task's queue transitions, by attempt then time (a claim before the end it shares a millisecond with)."""
        transitions = queue_transitions_sql(_OF_TASK, _OF_TASK, "task_id = ?1")
        rows = self._rows(f"SELECT * FROM ({transitions}) ORDER BY attempt, ts, {QUEUE_KIND_RANK}, kind", (task_id,))
        return [dict(zip(_QUEUE_KEYS, r[:5]), detail=self._json(r[5], f"queue_events row {task_id}")) for r in rows]

    def heartbeats(self) -> list[dict[str, Any]]:
        """The last heartbeat of every worker, by worker id."""
        rows = self._rows("SELECT worker_id, host, pid, started_at, last_seen, in_flight, concurrency, status"
                          " FROM worker_heartbeats ORDER BY worker_id")
        return [dict(zip(_HEARTBEAT_KEYS, r)) for r in rows]

    def health(self) -> Health:
        """`ok` while the file answers a query, else `down` with the reason."""
        try:
            self._rows("SELECT 1")
        except StoreError as exc:
            return Health("down", str(exc))
        return Health("ok")

    def count(self, table: str) -> int:
        """Rows in one of the store's tables (for stats and tests)."""
        if not table.isidentifier():
            raise ValueError(f"bad table name {table!r}")
        return self._rows(f"SELECT count(*) FROM {table}")[0][0]

    def _event(self, row: tuple) -> Event:
        """An `Event` from a row of `EVENT_COLUMNS`: the same record live subscribers get."""
        return Event(*row[:5], self._json(row[10], f"events row ({row[0]}, {row[1]})"), *row[5:10])

    def _json(self, text: str, where: str) -> Any:
        try:
            return json.loads(text)
        except (TypeError, ValueError):
            raise StoreError(self.path, f"corrupt {where}: not valid JSON") from None

    def _run_row(self, row: tuple) -> RunRow:
        values = list(row)
        values[16] = self._json(values[16] or "{}", f"runs row {values[0]}")
        return RunRow(*values)
