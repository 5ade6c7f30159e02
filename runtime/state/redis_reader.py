"""Queries over the Redis store (layout in `runtime/state/redis_store.py`), shaped like `SQLiteReader`'s."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import redis

from agentstage.runtime.errors import NotFound
from agentstage.runtime.llm.types import ChatMessage
from agentstage.runtime.state.fanout_state import merged
from agentstage.runtime.state.health import Health
from agentstage.runtime.state.reader import Page, RunRow, decode_cursor, encode_cursor
from agentstage.runtime.state.records import Event
from agentstage.runtime.state.redis_layout import RedisLayout, redis_errors

__all__ = ["RedisReader"]

_CHUNK = 200


class RedisReader:
    """Read-only view of the Redis store; thread-safe (redis-py pools connections)."""

    def __init__(self, client: redis.Redis, prefix: str, *, where: str = "redis") -> None:
        self.client = client
        self.layout = RedisLayout(client, prefix)
        self.where = where

    def close(self) -> None:
        """The client belongs to whoever made it; nothing to release here."""

    def health(self) -> Health:
        try:
            self.client.ping()
        except redis.RedisError as exc:
            return Health("down", f"redis unavailable: {exc}")
        return Health("ok")

    def get_run(self, run_id: str) -> RunRow:
        """The run with this id; raises NotFound."""
        with redis_errors(self.where):
            row = self.client.hget(self.layout.run(run_id), "row")
        if row is None:
            raise NotFound("run", run_id)
        return RunRow(**json.loads(row))

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
        after = "|".join(decode_cursor(cursor, 2)) if cursor is not None else None
        index = next(((by, value) for by, value in (("session", session_id), ("workflow", workflow),
                                                    ("worker", worker_id), ("status", status)) if value is not None),
                      (None, ""))
        wanted = {"status": status, "session_id": session_id, "workflow": workflow, "worker_id": worker_id}
        rows: list[RunRow] = []
        for row in self._walk(self.layout.runs_index(*index), after, until, since):
            if all(v is None or getattr(row, k) == v for k, v in wanted.items()):
                rows.append(row)
                if len(rows) > limit:
                    break
        next_cursor = encode_cursor(rows[limit - 1].created_at, rows[limit - 1].run_id) if len(rows) > limit else None
        return Page(rows[:limit], next_cursor)

    def _walk(self, index: str, after: str | None, until: str | None, since: str | None) -> Iterator[RunRow]:
        """Rows of a lex run index newest first, below `after`/`until`, down to `since`; drops expired members."""
        high = f"({after}" if after is not None else f"({until}" if until is not None else "+"
        low = f"[{since}" if since is not None else "-"
        offset = 0
        while True:
            with redis_errors(self.where):
                members = self.client.zrevrangebylex(index, high, low, start=offset, num=_CHUNK)
                if not members:
                    return
                found = self._rows([m.split("|", 1)[1] for m in members])
            gone = [m for m, row in zip(members, found) if row is None]
            if gone:
                with redis_errors(self.where):
                    self.client.zrem(index, *gone)
            offset += len(members) - len(gone)
            for row in found:
                if row is not None and (until is None or row.created_at < until):
                    yield row
            if len(members) < _CHUNK:
                return

    def _rows(self, run_ids: list[str]) -> list[RunRow | None]:
        pipe = self.client.pipeline(transaction=False)
        for run_id in run_ids:
            pipe.hget(self.layout.run(run_id), "row")
        return [RunRow(**json.loads(r)) if r is not None else None for r in pipe.execute()]

    def events(self, run_id: str, *, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        """A run's events in `seq` order, after `after_seq`."""
        with redis_errors(self.where):
            members = self.client.zrangebyscore(self.layout.events(run_id), f"({after_seq}", "+inf", start=0, num=limit)
        return [Event(**json.loads(m)) for m in members]

    def session_history(self, session_id: str, *, max_turns: int = 50) -> tuple[ChatMessage, ...]:
        """The conversation of a session's completed agent runs, oldest first."""
        if max_turns <= 0:
            return ()
        turns: list[RunRow] = []
        for row in self._walk(self.layout.runs_index("session", session_id), None, None, None):
            if len(turns) >= max_turns and row.created_at != turns[-1].created_at:
                break
            if row.status == "completed" and row.kind == "agent":
                turns.append(row)
        # Runs created in the same millisecond keep the order they arrived in, as in SQLite.
        with redis_errors(self.where):
            pipe = self.client.pipeline(transaction=False)
            for row in turns:
                pipe.hget(self.layout.run(row.run_id), "arrival")
            arrivals = [int(a or 0) for a in pipe.execute()] if turns else []
        ordered = [row for _, row in sorted(zip(arrivals, turns), key=lambda p: (p[1].created_at, p[0]))]
        history: list[ChatMessage] = []
        for row in ordered[-max_turns:]:
            history += [ChatMessage("user", row.input), ChatMessage("assistant", row.output or "")]
        return tuple(history)

    def list_sessions(self, *, limit: int = 50, cursor: str | None = None) -> Page:
        """Sessions most recently active first, with their run counts."""
        high = "(" + "|".join(decode_cursor(cursor, 2)) if cursor is not None else "+"
        items: list[dict[str, Any]] = []
        offset = 0
        while len(items) <= limit:
            with redis_errors(self.where):
                members = self.client.zrevrangebylex(self.layout.sessions(), high, "-", start=offset, num=_CHUNK)
                if not members:
                    break
                pipe = self.client.pipeline(transaction=False)
                for member in members:
                    session_id = member.split("|", 1)[1]
                    pipe.hmget(self.layout.session(session_id), "created_at", "updated_at")
                    pipe.zcard(self.layout.runs_index("session", session_id))
                answers = pipe.execute()
            gone = []
            for i, member in enumerate(members):
                (created, updated), runs = answers[2 * i], answers[2 * i + 1]
                if created is None:
                    gone.append(member)
                elif len(items) <= limit:
                    items.append({"session_id": member.split("|", 1)[1], "created_at": created,
                                  "updated_at": updated, "runs": runs})
            if gone:
                with redis_errors(self.where):
                    self.client.zrem(self.layout.sessions(), *gone)
            offset += len(members) - len(gone)
            if len(members) < _CHUNK:
                break
        next_cursor = encode_cursor(items[limit - 1]["updated_at"], items[limit - 1]["session_id"]) if len(items) > limit else None
        return Page(items[:limit], next_cursor)

    def checkpoints(self, run_id: str) -> list[dict[str, Any]]:
        """A run's checkpoints in step order, without their state."""
        with redis_errors(self.where):
            members = self.client.zrange(self.layout.checkpoints(run_id), 0, -1)
        return [_without_state(json.loads(m)) for m in members]

    def checkpoint(self, run_id: str, step: int | None = None) -> dict[str, Any]:
        """One checkpoint with its state (the latest when `step` is None); raises NotFound."""
        key = self.layout.checkpoints(run_id)
        with redis_errors(self.where):
            members = (self.client.zrevrange(key, 0, 0) if step is None
                       else self.client.zrangebyscore(key, step, step, start=0, num=1))
        if not members:
            raise NotFound("checkpoint", f"{run_id}@{'latest' if step is None else step}")

        def earlier(first: int, last: int) -> list[dict[str, Any]]:
            with redis_errors(self.where):
                return [json.loads(m) for m in self.client.zrangebyscore(key, first, last)]

        return merged(json.loads(members[0]), earlier)

    def tool_effect(self, key: str) -> tuple[bool, Any]:
        """`(True, result)` when the effect with this idempotency key completed before."""
        with redis_errors(self.where):
            value = self.client.get(self.layout.effect(key))
        return (True, json.loads(value)["result"]) if value is not None else (False, None)

    def effect_intent(self, key: str) -> str | None:
        """The owner of a started side-effecting call that has no recorded outcome, else None."""
        with redis_errors(self.where):
            value = self.client.get(self.layout.intent(key))
        return value.decode() if isinstance(value, bytes) else value

    def attempts(self, run_id: str) -> list[dict[str, Any]]:
        """A run's attempts in order."""
        return self._hash_values(self.layout.attempts(run_id), lambda a: a["attempt"])

    def queue_events(self, task_id: str) -> list[dict[str, Any]]:
        """A task's queue transitions, by attempt then time."""
        return self._hash_values(self.layout.queue(task_id), lambda q: (q["attempt"], q["ts"], q["kind"]))

    def heartbeats(self) -> list[dict[str, Any]]:
        """The last heartbeat of every worker, by worker id."""
        with redis_errors(self.where):
            ids = sorted(self.client.smembers(self.layout.workers()))
            values = self.client.mget([self.layout.worker(i) for i in ids]) if ids else []
        return [json.loads(v) for v in values if v is not None]

    def session_items(self, session_id: str, namespace: str, now: str) -> dict[str, tuple[Any, str | None]]:
        """Unexpired items of one session's namespace: key -> (value, expires_at), ordered by key."""
        with redis_errors(self.where):
            found = self.client.hgetall(self.layout.items(session_id, namespace))
        items = {key: json.loads(text) for key, text in sorted(found.items())}
        return {key: (item["value"], item["expires_at"]) for key, item in items.items()
                if item["expires_at"] is None or item["expires_at"] > now}

    def catalog_entries(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every catalog entry of one kind: name -> body (with `created_at`/`updated_at`), ordered by name."""
        with redis_errors(self.where):
            found = self.client.hgetall(self.layout.catalog(kind))
        return {name: {**entry["body"], "created_at": entry["created_at"], "updated_at": entry["updated_at"]}
                for name, entry in ((n, json.loads(t)) for n, t in sorted(found.items()))}

    def eval_runs(self) -> list[dict[str, Any]]:
        """Every evaluation as stored (EvalRun fields), in no particular order."""
        with redis_errors(self.where):
            return [json.loads(v) for v in self.client.hvals(self.layout.evals())]

    def eval_run(self, eval_id: str) -> dict[str, Any] | None:
        with redis_errors(self.where):
            found = self.client.hget(self.layout.evals(), eval_id)
        return None if found is None else json.loads(found)

    def eval_cases(self, eval_id: str) -> list[dict[str, Any]]:
        """One evaluation's case results (EvalCaseResult fields) in dataset order."""
        return self._hash_values(self.layout.eval_cases(eval_id), lambda c: c["position"])

    def schedules(self) -> list[dict[str, Any]]:
        """Every schedule as stored (Schedule fields), ordered by name."""
        return self._hash_values(self.layout.schedules(), lambda s: s["name"])

    def schedule_fires(self, name: str) -> list[dict[str, Any]]:
        """One schedule's firings (ScheduleFire fields plus `claimed_at`), in no particular order."""
        with redis_errors(self.where):
            return [json.loads(v) for v in self.client.hvals(self.layout.schedule_fires(name))]

    def _hash_values(self, key: str, order: Callable[[dict[str, Any]], Any]) -> list[dict[str, Any]]:
        with redis_errors(self.where):
            values = self.client.hvals(key)
        return sorted((json.loads(v) for v in values), key=order)


def _without_state(checkpoint: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in checkpoint.items() if k != "state"}
