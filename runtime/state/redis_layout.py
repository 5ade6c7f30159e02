"""Key names, record encodings and the Lua scripts shared by the Redis and Hybrid stores.

Every key starts with `<prefix>:state` (prefix = `AGENTSTAGE_STREAM_PREFIX`); the full layout is
documented in `runtime/state/redis_store.py`. Scripts compute index keys from the stored row, so
the layout targets one Redis (not Redis Cluster).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import redis

from agentstage.runtime.errors import StoreError
from agentstage.runtime.state.json_text import json_text
from agentstage.runtime.state.records import Checkpoint, Event
from agentstage.runtime.transport import redis_client

__all__ = ["RedisLayout", "checkpoint_json", "connect", "dumps", "event_json", "redis_errors"]

# Runs the run-row snapshot write: refuses an older version, moves the run between index sets, and
# keeps the run's arrival number (SQLite's rowid, or a counter), which orders same-millisecond runs.
PUT_RUN = """
local p, id = ARGV[1], ARGV[2]
local key = p .. ':run:' .. id
local old = redis.call('HMGET', key, 'version', 'status', 'created_at', 'workflow', 'worker_id')
if old[1] and tonumber(old[1]) > tonumber(ARGV[9]) then return 0 end
if old[1] then
  local m = old[3] .. '|' .. id
  redis.call('ZREM', p .. ':runs:status:' .. old[2], m)
  if old[4] ~= '' then redis.call('ZREM', p .. ':runs:workflow:' .. old[4], m) end
  if old[5] ~= '' then redis.call('ZREM', p .. ':runs:worker:' .. old[5], m) end
end
local arrival = ARGV[14]
if arrival == '' then arrival = redis.call('HGET', key, 'arrival') or redis.call('INCR', p .. ':arrival') end
redis.call('HSET', key, 'row', ARGV[3], 'status', ARGV[4], 'created_at', ARGV[5], 'session_id', ARGV[6],
  'workflow', ARGV[7], 'worker_id', ARGV[8], 'version', ARGV[9], 'n_events', ARGV[10], 'n_ckpts', ARGV[11],
  'latest_step', ARGV[12], 'arrival', arrival)
local m = ARGV[5] .. '|' .. id
redis.call('ZADD', p .. ':runs', 0, m)
redis.call('ZADD', p .. ':runs:status:' .. ARGV[4], 0, m)
redis.call('ZADD', p .. ':runs:session:' .. ARGV[6], 0, m)
if ARGV[7] ~= '' then redis.call('ZADD', p .. ':runs:workflow:' .. ARGV[7], 0, m) end
if ARGV[8] ~= '' then redis.call('ZADD', p .. ':runs:worker:' .. ARGV[8], 0, m) end
local ttl = tonumber(ARGV[13])
if ttl > 0 then
  redis.call('EXPIRE', key, ttl)
  redis.call('EXPIRE', p .. ':runs:session:' .. ARGV[6], ttl)
end
return 1
"""

# Adds (score, member) pairs whose score is not there yet; returns the scores added.
ADD_SCORED = """
local added = {}
for i = 2, #ARGV, 2 do
  if redis.call('ZCOUNT', KEYS[1], ARGV[i], ARGV[i]) == 0 then
    redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1])
    added[#added + 1] = ARGV[i]
  end
end
local ttl = tonumber(ARGV[1])
if ttl > 0 and redis.call('EXISTS', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ttl) end
return added
"""

# Writes a session row and moves it in the recency index (member `updated_at|session_id`).
PUT_SESSION = """
local p, id = ARGV[1], ARGV[2]
local key = p .. ':session:' .. id
local old = redis.call('HGET', key, 'updated_at')
if old then redis.call('ZREM', p .. ':sessions', old .. '|' .. id) end
redis.call('HSET', key, 'created_at', ARGV[3], 'updated_at', ARGV[4], 'n_runs', ARGV[5])
redis.call('ZADD', p .. ':sessions', 0, ARGV[4] .. '|' .. id)
local ttl = tonumber(ARGV[6])
if ttl > 0 then redis.call('EXPIRE', key, ttl) end
return 1
"""

# Writes a schedule tick's row (field ARGV[1]) as ARGV[2]: the first writer claims the tick; after that
# only its owner (ARGV[3]) rewrites it, or another owner takes over a claim never started and last
# written before ARGV[4] (its owner died). Returns 1 when written.
CLAIM_TICK = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local old = cjson.decode(cur)
  local mine = old['owner'] == ARGV[3]
  local stale = ARGV[4] ~= '' and old['status'] == 'claimed' and old['ts'] < ARGV[4]
  if not (mine or stale) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

_WATCH_TRIES = 16
"""How often a watched write is read and planned again before its writer gives up (heavy contention)."""

_SCRIPTS = {"put_run": PUT_RUN, "add_scored": ADD_SCORED, "put_session": PUT_SESSION, "claim_tick": CLAIM_TICK}


def dumps(value: Any) -> str:
    """Compact JSON, the same way the SQLite writer encodes JSON columns."""
    return json_text(value)


def event_json(e: Event) -> str:
    """An event as JSON in the shape `SQLiteReader.events` returns."""
    return dumps({"run_id": e.run_id, "seq": e.seq, "type": e.type, "ts": e.ts, "session_id": e.session_id,
                  "node": e.node, "tool": e.tool, "provider": e.provider, "duration_ms": e.duration_ms,
                  "error": e.error, "data": e.data})


def checkpoint_json(c: Checkpoint) -> str:
    """A checkpoint as JSON in the shape `SQLiteReader.checkpoint` returns (state encoded once)."""
    state = dumps(c.state)
    head = dumps({"step": c.step, "node": c.node, "next_node": c.next_node, "state_bytes": len(state.encode()),
                  "version": c.version, "created_at": c.ts, "run_id": c.run_id})
    return f'{head[:-1]},"state":{state}}}'


class RedisLayout:
    """Key names under `<prefix>:state` and the registered scripts for one client."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.p = f"{prefix}:state"
        self._shas: dict[str, str] = {}

    def execute(self, build: Callable[[Any], None], *, transaction: bool = False) -> list[Any]:
        """Build a pipeline with `build(pipe)` and run it; reloads the scripts once after a Redis restart."""
        for attempt in (1, 2):
            self._load_scripts()
            pipe = self.client.pipeline(transaction=transaction)
            build(pipe)
            try:
                return pipe.execute()
            except redis.exceptions.NoScriptError:
                self._shas = {}
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _load_scripts(self) -> None:
        """Register the scripts once per client (again after `_shas` was cleared by a Redis restart)."""
        if not self._shas:
            self._shas = {name: self.client.script_load(body) for name, body in _SCRIPTS.items()}

    def execute_watched(self, key: str, plan: Callable[[], Callable[[Any], None]]) -> list[Any]:
        """Run `plan()` (it reads, then returns a pipeline builder) with `key` watched, and its writes in one
        MULTI/EXEC that fails when another client changed `key` since the read: then read and plan again.

        For writes whose conditions (a name is free, a row exists) are checked against what was read.
        """
        for _ in range(_WATCH_TRIES):
            self._load_scripts()
            with self.client.pipeline(transaction=True) as pipe:
                pipe.watch(key)
                build = plan()
                pipe.multi()
                build(pipe)
                try:
                    return pipe.execute()
                except redis.exceptions.WatchError:
                    continue
                except redis.exceptions.NoScriptError:
                    self._shas = {}
        raise redis.exceptions.WatchError(f"{key} changed under each of {_WATCH_TRIES} tries")

    def run(self, run_id: str) -> str:
        return f"{self.p}:run:{run_id}"

    def events(self, run_id: str) -> str:
        return f"{self.p}:run:{run_id}:events"

    def checkpoints(self, run_id: str) -> str:
        return f"{self.p}:run:{run_id}:ckpts"

    def runs_index(self, by: str | None = None, value: str = "") -> str:
        return f"{self.p}:runs" if by is None else f"{self.p}:runs:{by}:{value}"

    def session(self, session_id: str) -> str:
        return f"{self.p}:session:{session_id}"

    def sessions(self) -> str:
        return f"{self.p}:sessions"

    def effect(self, key: str) -> str:
        return f"{self.p}:effect:{key}"

    def intent(self, key: str) -> str:
        return f"{self.p}:effect-intent:{key}"

    def attempts(self, run_id: str) -> str:
        return f"{self.p}:attempts:{run_id}"

    def queue(self, task_id: str) -> str:
        return f"{self.p}:queue:{task_id}"

    def worker(self, worker_id: str) -> str:
        return f"{self.p}:worker:{worker_id}"

    def workers(self) -> str:
        return f"{self.p}:workers"

    def api_key(self, key_id: str) -> str:
        return f"{self.p}:apikey:{key_id}"

    def items(self, session_id: str, namespace: str) -> str:
        return f"{self.p}:items:{session_id}:{namespace}"

    def catalog(self, kind: str) -> str:
        return f"{self.p}:catalog:{kind}"

    def evals(self) -> str:
        return f"{self.p}:evals"

    def eval_cases(self, eval_id: str) -> str:
        return f"{self.p}:eval:{eval_id}:cases"

    def schedules(self) -> str:
        return f"{self.p}:schedules"

    def schedule_fires(self, name: str) -> str:
        return f"{self.p}:schedule:{name}:fires"

    def audit(self, entry_id: str | None = None) -> str:
        return f"{self.p}:audit" if entry_id is None else f"{self.p}:audit:{entry_id}"

    def put_run(self, pipe: Any, row: dict[str, Any], version: int, n_events: int, n_ckpts: int,
                latest_step: int | None, ttl: int, arrival: int | None = None) -> None:
        """Queue the snapshot write of one run row on `pipe`."""
        pipe.evalsha(self._shas["put_run"], 0,
            self.p, row["run_id"], dumps(row), row["status"], row["created_at"], row["session_id"],
            row["workflow"] or "", row["worker_id"] or "", version, n_events, n_ckpts,
            "" if latest_step is None else latest_step, ttl, "" if arrival is None else arrival)

    def add_scored(self, pipe: Any, key: str, pairs: Sequence[tuple[int, str]], ttl: int) -> None:
        """Queue adding members whose score (seq or step) is new on `pipe`."""
        args: list[Any] = [ttl]
        for score, member in pairs:
            args.extend((score, member))
        pipe.evalsha(self._shas["add_scored"], 1, key, *args)

    def claim_tick(self, pipe: Any, key: str, tick: str, row: str, owner: str, steal_before: str) -> None:
        """Queue the compare-and-set write of a schedule tick's row on `pipe` (see CLAIM_TICK)."""
        pipe.evalsha(self._shas["claim_tick"], 1, key, tick, row, owner, steal_before)

    def put_session(self, pipe: Any, session: dict[str, Any], n_runs: int, ttl: int) -> None:
        pipe.evalsha(self._shas["put_session"], 0, self.p, session["session_id"], session["created_at"],
                     session["updated_at"], n_runs, ttl)


def connect(url: str, *, timeout: float = 2.0) -> redis.Redis:
    """A client that fails fast (no built-in retries): the stores decide what a Redis failure means."""
    return redis_client(url, timeout=timeout, connect_timeout=timeout, decode_responses=True, fail_fast=True)


class redis_errors:
    """Context manager turning redis-py errors into `StoreError`s naming the Redis URL."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None and isinstance(exc, redis.RedisError):
            raise StoreError(self.where, f"redis: {exc}") from None
        return False
