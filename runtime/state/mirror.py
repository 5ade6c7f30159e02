"""The Hybrid store's Redis side: versioned snapshots copied from SQLite, and completeness-checked reads.

A run's snapshot carries `n_events`, `n_ckpts` and `latest_step` as SQLite counted them; a cached
answer is used only when Redis holds that many events (or that latest step), so a copy missed
while Redis was down shows up as a miss, never as a wrong answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import apsw
import redis

from agentstage.runtime.state.reader import RunRow
from agentstage.runtime.state.records import Checkpoint, Event, Record, ToolEffect
from agentstage.runtime.state.redis_layout import RedisLayout, checkpoint_json, dumps, event_json
from agentstage.runtime.state.sqlite import store_errors

__all__ = ["MISS", "RedisMirror"]

MISS = object()
"""What a cached read returns when Redis cannot prove its answer complete."""

_RUN_COLUMNS = ", ".join(RunRow.__dataclass_fields__)


class RedisMirror:
    """Copies SQLite rows into the Redis layout and answers hot reads from it."""

    def __init__(self, client: redis.Redis, prefix: str, ttl: int) -> None:
        self.client = client
        self.layout = RedisLayout(client, prefix)
        self.ttl = ttl

    def copy(self, connection: apsw.Connection, path: str, runs: Iterable[str], sessions: Iterable[str],
             fresh: list[Event], other: list[Record]) -> None:
        """Copy one commit: new events, checkpoints, effects, and snapshots of the touched runs and sessions."""
        snapshots = [s for s in (_run_snapshot(connection, path, run_id) for run_id in runs) if s is not None]
        session_rows = [s for s in (_session_snapshot(connection, path, sid) for sid in sessions) if s is not None]
        events: dict[str, list[tuple[int, str]]] = {}
        for e in fresh:
            events.setdefault(e.run_id, []).append((e.seq, event_json(e)))
        ckpts: dict[str, list[tuple[int, str]]] = {}
        for r in other:
            if isinstance(r, Checkpoint):
                ckpts.setdefault(r.run_id, []).append((r.step, checkpoint_json(r)))
        effects = [r for r in other if isinstance(r, ToolEffect)]
        lay, ttl = self.layout, self.ttl

        def build(pipe: Any) -> None:
            for run_id, pairs in events.items():
                lay.add_scored(pipe, lay.events(run_id), pairs, ttl)
            for run_id, pairs in ckpts.items():
                lay.add_scored(pipe, lay.checkpoints(run_id), pairs, ttl)
            for snapshot in snapshots:
                lay.put_run(pipe, *snapshot[:5], ttl, snapshot[5])
            for row, n_runs in session_rows:
                lay.put_session(pipe, row, n_runs, ttl)
            for t in effects:
                self._put_effect(pipe, t.key, {"run_id": t.run_id, "tool": t.tool, "result": t.result, "created_at": t.ts})

        lay.execute(build)

    def _put_effect(self, pipe: Any, key: str, value: dict[str, Any]) -> None:
        pipe.set(self.layout.effect(key), dumps(value), nx=True, ex=self.ttl or None)

    def cached_run(self, run_id: str) -> Any:
        row = self.client.hget(self.layout.run(run_id), "row")
        return MISS if row is None else RunRow(**json.loads(row))

    def cached_events(self, run_id: str, after_seq: int, limit: int) -> Any:
        pipe = self.client.pipeline(transaction=False)
        pipe.hget(self.layout.run(run_id), "n_events")
        pipe.zcard(self.layout.events(run_id))
        pipe.zrangebyscore(self.layout.events(run_id), f"({after_seq}", "+inf", start=0, num=limit)
        n_events, held, members = pipe.execute()
        if n_events is None or int(n_events) != held:
            return MISS
        return [Event(**json.loads(m)) for m in members]

    def cached_checkpoint(self, run_id: str, step: int | None) -> Any:
        key = self.layout.checkpoints(run_id)
        if step is not None:
            members = self.client.zrangebyscore(key, step, step, start=0, num=1)
            return json.loads(members[0]) if members else MISS
        pipe = self.client.pipeline(transaction=False)
        pipe.hget(self.layout.run(run_id), "latest_step")
        pipe.zrevrange(key, 0, 0, withscores=True)
        latest, top = pipe.execute()
        if not latest or not top or int(top[0][1]) != int(latest):
            return MISS
        return json.loads(top[0][0])

    def session_complete(self, session_id: str) -> bool:
        pipe = self.client.pipeline(transaction=False)
        pipe.hget(self.layout.session(session_id), "n_runs")
        pipe.zcard(self.layout.runs_index("session", session_id))
        n_runs, held = pipe.execute()
        return n_runs is not None and int(n_runs) == held

    def cached_effect(self, key: str) -> Any:
        value = self.client.get(self.layout.effect(key))
        return MISS if value is None else (True, json.loads(value)["result"])

    def backfill_runs(self, connection: apsw.Connection, path: str, run_ids: Iterable[str]) -> None:
        snapshots = [s for s in (_run_snapshot(connection, path, r) for r in run_ids) if s is not None]
        self.layout.execute(lambda pipe: [self.layout.put_run(pipe, *s[:5], self.ttl, s[5]) for s in snapshots])

    def backfill_events(self, connection: apsw.Connection, path: str, run_id: str, events: list[Event]) -> None:
        snapshot = _run_snapshot(connection, path, run_id)

        def build(pipe: Any) -> None:
            if events:
                self.layout.add_scored(pipe, self.layout.events(run_id), [(e.seq, event_json(e)) for e in events], self.ttl)
            if snapshot is not None:
                self.layout.put_run(pipe, *snapshot[:5], self.ttl, snapshot[5])

        self.layout.execute(build)

    def backfill_checkpoint(self, connection: apsw.Connection, path: str, checkpoint: dict[str, Any]) -> None:
        snapshot = _run_snapshot(connection, path, checkpoint["run_id"])

        def build(pipe: Any) -> None:
            self.layout.add_scored(pipe, self.layout.checkpoints(checkpoint["run_id"]),
                                   [(checkpoint["step"], dumps(checkpoint))], self.ttl)
            if snapshot is not None:
                self.layout.put_run(pipe, *snapshot[:5], self.ttl, snapshot[5])

        self.layout.execute(build)

    def backfill_session(self, connection: apsw.Connection, path: str, session_id: str) -> None:
        session = _session_snapshot(connection, path, session_id)
        if session is None:
            return
        with store_errors(path):
            run_ids = [r[0] for r in connection.execute("SELECT run_id FROM runs WHERE session_id = ?", (session_id,))]
        snapshots = [s for s in (_run_snapshot(connection, path, r) for r in run_ids) if s is not None]

        def build(pipe: Any) -> None:
            for snapshot in snapshots:
                self.layout.put_run(pipe, *snapshot[:5], self.ttl, snapshot[5])
            self.layout.put_session(pipe, *session, self.ttl)

        self.layout.execute(build)

    def backfill_effect(self, connection: apsw.Connection, path: str, key: str) -> None:
        with store_errors(path):
            rows = list(connection.execute("SELECT run_id, tool, result, created_at FROM tool_effects WHERE key = ?",
                                           (key,)))
        if rows:
            run_id, tool, result, created_at = rows[0]
            value = {"run_id": run_id, "tool": tool, "result": json.loads(result), "created_at": created_at}
            self.layout.execute(lambda pipe: self._put_effect(pipe, key, value))


def _run_snapshot(connection: apsw.Connection, path: str, run_id: str) -> tuple | None:
    """`(row, version, n_events, n_ckpts, latest_step, arrival)` of a run as SQLite has it now, or None."""
    with store_errors(path):
        rows = list(connection.execute(
            f"SELECT {_RUN_COLUMNS}, (SELECT count(*) FROM events WHERE run_id = ?1),"
            " (SELECT count(*) FROM checkpoints WHERE run_id = ?1), (SELECT max(step) FROM checkpoints WHERE run_id = ?1),"
            " rowid FROM runs WHERE run_id = ?1", (run_id,)))
    if not rows:
        return None
    *values, n_events, n_ckpts, latest, arrival = rows[0]
    row = dict(zip(RunRow.__dataclass_fields__, values))
    row["metadata"] = json.loads(row["metadata"] or "{}")
    return row, n_events + n_ckpts, n_events, n_ckpts, latest, arrival


def _session_snapshot(connection: apsw.Connection, path: str, session_id: str) -> tuple | None:
    """`(session row, run count)` as SQLite has it now, or None."""
    with store_errors(path):
        rows = list(connection.execute(
            "SELECT created_at, updated_at, (SELECT count(*) FROM runs WHERE session_id = ?)"
            " FROM sessions WHERE session_id = ?", (session_id, session_id)))
    if not rows:
        return None
    created, updated, n_runs = rows[0]
    return {"session_id": session_id, "created_at": created, "updated_at": updated}, n_runs
