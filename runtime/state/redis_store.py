"""The Redis store: every record kept in Redis, for `AGENTSTAGE_STATE=redis` and as the Hybrid store's cache.

Key layout (P = `<AGENTSTAGE_STREAM_PREFIX>:state`; "lex" zsets hold `<time>|<id>` members with
score 0, so `ZREVRANGEBYLEX` gives keyset pages newest first; "T" = expires after
`AGENTSTAGE_STATE_REDIS_TTL` seconds, refreshed on each write, 0 = never):

    P:run:<run_id>                 hash  row (RunRow JSON), status, created_at, session_id, workflow,
                                         worker_id, version, n_events, n_ckpts, latest_step,
                                         arrival (orders same-millisecond runs; from P:arrival)   T
    P:run:<run_id>:events          zset  score seq, member event JSON                               T
    P:run:<run_id>:ckpts           zset  score step, member checkpoint JSON (with state)            T
    P:runs                         lex   every run, `created_at|run_id`
    P:runs:status:<status>         lex   runs by status (moved when the status changes)
    P:runs:session:<session_id>    lex   a session's runs                                          T
    P:runs:workflow:<name>, P:runs:worker:<worker_id>   lex   runs by workflow / worker
    P:session:<session_id>         hash  created_at, updated_at, n_runs                             T
    P:sessions                     lex   sessions, `updated_at|session_id`
    P:effect:<idempotency key>     str   tool effect JSON                                           T
    P:attempts:<run_id>            hash  attempt -> RunAttempt JSON                                 T
    P:queue:<task_id>              hash  `attempt|kind` -> QueueEvent JSON                          T
    P:worker:<worker_id>           str   WorkerHeartbeat JSON;  P:workers  set of worker ids
    P:apikey:<id>                  str   ApiKey JSON
    P:audit:<id>                   str   AuditEntry JSON;  P:audit  lex `ts|id`
    P:items:<session_id>:<ns>      hash  key -> {value, expires_at} (tool session items)             T
    P:catalog:<kind>               hash  name -> {body, created_at, updated_at} (runtime catalog)
    P:evals                        hash  eval_id -> EvalRun JSON
    P:eval:<eval_id>:cases         hash  case_id -> EvalCaseResult JSON
    P:schedules                    hash  name -> Schedule JSON
    P:schedule:<name>:fires        hash  tick -> ScheduleFire JSON (compare-and-set: first writer owns it)

Index members whose row expired are removed when a listing meets them. `version` (events +
checkpoints applied) lets a snapshot write refuse an older snapshot. Events and checkpoints are
sorted sets rather than streams because replays and late arrivals may come out of `seq` order.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

import redis

from agentstage.runtime.errors import NotFound, Refused
from agentstage.runtime.state.health import Health
from agentstage.runtime.state.projection import MAX_ANCESTORS, add_usage, parent_of, project_run, project_session
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
    WorkerHeartbeat,
    attempt_transitions,
)
from agentstage.runtime.state.redis_layout import (
    RedisLayout,
    checkpoint_json,
    dumps,
    event_json,
    redis_errors,
)

__all__ = ["RedisWriter"]

_KINDS = (Event, Checkpoint, RunAttempt, WorkerHeartbeat, QueueEvent, ToolEffect, EffectIntent, ApiKey, AuditEntry,
          SessionItem, CatalogEntry, EvalRun, EvalCaseResult, Schedule, ScheduleRemoved, ScheduleFire)


class RedisWriter:
    """Applies records to Redis idempotently (natural keys), with the run projection of the SQLite writer.

    Each `apply_batch` reads what it needs, then writes in one MULTI/EXEC, so a batch lands whole
    or not at all. Redis has no rollback across batches: `commit`/`rollback` only end the group.
    One writer per prefix, like the SQLite file.
    """

    def __init__(self, client: redis.Redis, prefix: str, *, ttl: int = 0, where: str = "redis") -> None:
        self.client = client
        self.layout = RedisLayout(client, prefix)
        self.ttl = ttl
        self.where = where
        self._in_transaction = False

    @property
    def in_transaction(self) -> bool:
        return self._in_transaction

    def begin(self) -> None:
        self._in_transaction = True

    def commit(self) -> None:
        self._in_transaction = False

    def rollback(self) -> None:
        self._in_transaction = False

    def write(self, records: Iterable[Record]) -> list[Event]:
        self.begin()
        try:
            return self.apply_batch(records)
        finally:
            self.commit()

    def health(self) -> Health:
        try:
            self.client.ping()
        except redis.RedisError as exc:
            return Health("down", f"redis unavailable: {exc}")
        return Health("ok")

    def close(self) -> None:
        self.client.close()

    def apply_batch(self, records: Iterable[Record]) -> list[Event]:
        """Apply records in one MULTI/EXEC; returns the events that were new. Raises StoreError."""
        records = list(records)
        for record in records:
            if not isinstance(record, _KINDS):
                raise TypeError(f"cannot store {type(record).__name__}")
        if not records:
            return []
        with redis_errors(self.where):
            if not any(isinstance(r, Schedule) and r.condition for r in records):
                fresh, writes = self._plan(records, self._read(records))
                self.layout.execute(writes, transaction=True)
                return fresh
            planned: list[list[Event]] = []

            def plan() -> Any:
                fresh, writes = self._plan(records, self._read(records))
                planned.append(fresh)
                return writes

            # NOTE: a create or update checks the stored schedules; watching them makes the check hold at the write
            self.layout.execute_watched(self.layout.schedules(), plan)
            return planned[-1]

    def _read(self, records: list[Record]) -> dict[str, Any]:
        """What the batch needs to know: existing seqs/steps and the rows it merges into."""
        lay = self.layout
        probes: list[tuple[str, Any]] = []
        for r in records:
            if isinstance(r, Event):
                probes += [(f"seq:{r.run_id}:{r.seq}", ("zcount", lay.events(r.run_id), r.seq)),
                           (f"run:{r.run_id}", ("hmget", lay.run(r.run_id))),
                           (f"session:{r.session_id}", ("hmget_session", lay.session(r.session_id)))]
                if (parent := parent_of(r)) is not None:
                    probes.append((f"run:{parent}", ("hmget", lay.run(parent))))
            elif isinstance(r, Checkpoint):
                probes += [(f"step:{r.run_id}:{r.step}", ("zcount", lay.checkpoints(r.run_id), r.step)),
                           (f"run:{r.run_id}", ("hmget", lay.run(r.run_id)))]
            elif isinstance(r, RunAttempt):
                probes.append((f"attempt:{r.run_id}:{r.attempt}", ("hget", lay.attempts(r.run_id), r.attempt)))
            elif isinstance(r, WorkerHeartbeat):
                probes.append((f"worker:{r.worker_id}", ("get", lay.worker(r.worker_id))))
            elif isinstance(r, EffectIntent):
                probes.append((f"effect:{r.key}", ("get", lay.effect(r.key))))
            elif isinstance(r, ApiKey):
                probes.append((f"apikey:{r.id}", ("get", lay.api_key(r.id))))
            elif isinstance(r, CatalogEntry):
                probes.append((f"catalog:{r.kind}:{r.name}", ("hget", lay.catalog(r.kind), r.name)))
            elif isinstance(r, EvalRun):
                probes.append((f"eval:{r.eval_id}", ("hget", lay.evals(), r.eval_id)))
            elif isinstance(r, Schedule):
                probes.append((f"schedule:{r.name}", ("hget", lay.schedules(), r.name)))
            elif isinstance(r, ScheduleFire):
                probes.append((f"fire:{r.name}:{r.tick}", ("hget", lay.schedule_fires(r.name), r.tick)))
        unique = dict(probes)

        def build(pipe: Any) -> None:
            for op in unique.values():
                if op[0] == "zcount":
                    pipe.zcount(op[1], op[2], op[2])
                elif op[0] == "hmget":
                    pipe.hmget(op[1], "row", "n_events", "n_ckpts", "latest_step")
                elif op[0] == "hmget_session":
                    pipe.hmget(op[1], "created_at", "updated_at", "n_runs")
                elif op[0] == "hget":
                    pipe.hget(op[1], op[2])
                else:
                    pipe.get(op[1])

        return dict(zip(unique, self.layout.execute(build))) if unique else {}

    def _plan(self, records: list[Record], state: dict[str, Any]) -> tuple[list[Event], Any]:
        lay, ttl = self.layout, self.ttl
        fresh: list[Event] = []
        runs: dict[str, dict[str, Any]] = {}
        sessions: dict[str, dict[str, Any]] = {}
        events: dict[str, list[tuple[int, str]]] = {}
        ckpts: dict[str, list[tuple[int, str]]] = {}
        plain: list[tuple[str, tuple]] = []
        for r in records:
            if isinstance(r, Event):
                if state.get(f"seq:{r.run_id}:{r.seq}") or any(s == r.seq for s, _ in events.get(r.run_id, [])):
                    continue
                run = self._run_state(runs, state, r.run_id)
                created = run["row"] is None
                run["row"] = project_run(run["row"], r)
                self._roll_up(runs, state, parent_of(r), r)
                run["n_events"] += 1
                events.setdefault(r.run_id, []).append((r.seq, event_json(r)))
                if r.type in ("run.queued", "run.started"):
                    session = self._session_state(sessions, state, r.session_id)
                    session["row"] = project_session(session["row"], r)
                    session["n_runs"] += created
                fresh.append(r)
            elif isinstance(r, Checkpoint):
                if state.get(f"step:{r.run_id}:{r.step}") or any(s == r.step for s, _ in ckpts.get(r.run_id, [])):
                    continue
                run = self._run_state(runs, state, r.run_id)
                run["n_ckpts"] += 1
                run["latest_step"] = r.step if run["latest_step"] is None else max(run["latest_step"], r.step)
                ckpts.setdefault(r.run_id, []).append((r.step, checkpoint_json(r)))
            elif isinstance(r, RunAttempt):
                key = f"attempt:{r.run_id}:{r.attempt}"
                fields = dataclasses.asdict(r)
                del fields["claimed_at"], fields["acked_at"]  # NOTE: kept as the task's queue events, below
                state[key] = dumps(merge_attempt(_loads(state.get(key)), fields))
                plain.append(("hset", (lay.attempts(r.run_id), r.attempt, state[key])))
                plain += [("hsetnx", (lay.queue(q.task_id), f"{q.attempt}|{q.kind}", dumps(dataclasses.asdict(q))))
                          for q in attempt_transitions(r)]
            elif isinstance(r, WorkerHeartbeat):
                key = f"worker:{r.worker_id}"
                old = _loads(state.get(key))
                if old is None or r.last_seen >= old["last_seen"]:
                    state[key] = dumps(dataclasses.asdict(r))
                    plain += [("set", (lay.worker(r.worker_id), state[key])), ("sadd", (lay.workers(), r.worker_id))]
            elif isinstance(r, QueueEvent):
                plain.append(("hsetnx", (lay.queue(r.task_id), f"{r.attempt}|{r.kind}", dumps(dataclasses.asdict(r)))))
            elif isinstance(r, ToolEffect):
                value = dumps({"run_id": r.run_id, "tool": r.tool, "result": r.result, "created_at": r.ts})
                plain += [("setnx", (lay.effect(r.key), value)), ("delete", (lay.intent(r.key),))]
            elif isinstance(r, EffectIntent):
                # NOTE: an intent never outlives its effect; a started call is not restarted by a late intent
                if state.get(f"effect:{r.key}") is None:
                    plain.append(("setnx", (lay.intent(r.key), r.owner)))
            elif isinstance(r, ApiKey):
                key = f"apikey:{r.id}"
                state[key] = dumps(merge_api_key(_loads(state.get(key)), dataclasses.asdict(r)))
                plain.append(("set", (lay.api_key(r.id), state[key])))
            elif isinstance(r, SessionItem):
                key = lay.items(r.session_id, r.namespace)
                plain.append(("hdel", (key, r.key)) if r.value is None else
                             ("hset", (key, r.key, dumps({"value": r.value, "expires_at": r.expires_at}))))
            elif isinstance(r, CatalogEntry):
                key = f"catalog:{r.kind}:{r.name}"
                old = _loads(state.get(key))
                if r.body is None:
                    state[key] = None
                    plain.append(("hdel", (lay.catalog(r.kind), r.name)))
                else:
                    created = old["created_at"] if old else r.ts
                    state[key] = dumps({"body": r.body, "created_at": created, "updated_at": r.ts})
                    plain.append(("hset_keep", (lay.catalog(r.kind), r.name, state[key])))
            elif isinstance(r, EvalRun):
                key = f"eval:{r.eval_id}"
                old = _loads(state.get(key))
                if old is None or old["ended_at"] is None:
                    state[key] = dumps(dataclasses.asdict(r))
                    plain.append(("hset_keep", (lay.evals(), r.eval_id, state[key])))
            elif isinstance(r, EvalCaseResult):
                plain.append(("hset_keep", (lay.eval_cases(r.eval_id), r.case_id, dumps(dataclasses.asdict(r)))))
            elif isinstance(r, Schedule):
                old = _loads(state.get(f"schedule:{r.name}"))
                if r.condition == "create" and old is not None:
                    raise Refused(r.name, f"a schedule named {r.name!r} exists", field="name")
                if r.condition == "update" and old is None:
                    raise NotFound("schedule", r.name)
                row = {**{k: v for k, v in dataclasses.asdict(r).items() if k != "condition"},
                       "created_at": old["created_at"] if old else r.created_at}
                state[f"schedule:{r.name}"] = dumps(row)
                plain.append(("hset_keep", (lay.schedules(), r.name, state[f"schedule:{r.name}"])))
            elif isinstance(r, ScheduleRemoved):
                plain += [("hdel", (lay.schedules(), r.name)), ("delete", (lay.schedule_fires(r.name),))]
            elif isinstance(r, ScheduleFire):
                plain += self._fire(r, state)
            else:
                plain += [("setnx", (lay.audit(r.id), dumps(dataclasses.asdict(r)))),
                          ("zadd_lex", (lay.audit(), f"{r.ts}|{r.id}"))]

        def build(pipe: Any) -> None:
            for run_id, pairs in events.items():
                lay.add_scored(pipe, lay.events(run_id), pairs, ttl)
            for run_id, pairs in ckpts.items():
                lay.add_scored(pipe, lay.checkpoints(run_id), pairs, ttl)
            for run_id, run in runs.items():
                if run["row"] is not None:
                    lay.put_run(pipe, run["row"], run["n_events"] + run["n_ckpts"], run["n_events"], run["n_ckpts"],
                                run["latest_step"], ttl)
            for session in sessions.values():
                lay.put_session(pipe, session["row"], session["n_runs"], ttl)
            for op, args in plain:
                if op == "zadd_lex":
                    pipe.zadd(args[0], {args[1]: 0})
                    continue
                if op == "hset_keep":
                    pipe.hset(*args)
                    continue
                if op == "claim_tick":  # NOTE: a schedule's history (its last tick) must outlive the state TTL
                    lay.claim_tick(pipe, *args)
                    continue
                getattr(pipe, op)(*args)
                if ttl and op in ("hset", "hsetnx", "setnx"):
                    pipe.expire(args[0], ttl)

        return fresh, build

    def _fire(self, r: ScheduleFire, state: dict[str, Any]) -> list[tuple[str, tuple]]:
        """A tick's row, written by compare-and-set in Redis: the first writer claims the tick, its owner's
        later writes update it, and another owner takes over a claim left unstarted before `steal_before`."""
        key = f"fire:{r.name}:{r.tick}"
        old = _loads(state.get(key))
        row = {k: v for k, v in dataclasses.asdict(r).items() if k != "steal_before"}
        if old is not None and old["owner"] == r.owner:
            row = {**row, "run_id": r.run_id or old["run_id"], "claimed_at": old["claimed_at"]}
        elif old is None or (r.steal_before and old["status"] == "claimed" and old["ts"] < r.steal_before):
            row = {**row, "claimed_at": r.ts}
        else:
            return []
        state[key] = dumps(row)
        return [("claim_tick", (self.layout.schedule_fires(r.name), r.tick, state[key], r.owner, r.steal_before))]

    def _roll_up(self, runs: dict[str, dict[str, Any]], state: dict[str, Any], parent: str | None, e: Event) -> None:
        """Add usage event `e`'s tokens to `parent` and every ancestor above it (rows not probed are read now)."""
        seen: set[str] = set()
        while parent is not None and parent not in seen and len(seen) < MAX_ANCESTORS:
            seen.add(parent)
            if f"run:{parent}" not in state and parent not in runs:
                state[f"run:{parent}"] = self.layout.client.hmget(self.layout.run(parent), "row", "n_events", "n_ckpts",
                                                                  "latest_step")
            run = self._run_state(runs, state, parent)
            if run["row"] is None:
                return
            run["row"] = add_usage(run["row"], e)
            parent = run["row"].get("parent_run_id")

    @staticmethod
    def _run_state(runs: dict[str, dict[str, Any]], state: dict[str, Any], run_id: str) -> dict[str, Any]:
        if run_id not in runs:
            row, n_events, n_ckpts, latest = state.get(f"run:{run_id}") or (None, None, None, None)
            runs[run_id] = {"row": _loads(row), "n_events": int(n_events or 0), "n_ckpts": int(n_ckpts or 0),
                            "latest_step": int(latest) if latest not in (None, "") else None}
        return runs[run_id]

    @staticmethod
    def _session_state(sessions: dict[str, dict[str, Any]], state: dict[str, Any], session_id: str) -> dict[str, Any]:
        if session_id not in sessions:
            created, updated, n_runs = state.get(f"session:{session_id}") or (None, None, None)
            row = {"session_id": session_id, "created_at": created, "updated_at": updated} if created else None
            sessions[session_id] = {"row": row, "n_runs": int(n_runs or 0)}
        return sessions[session_id]


def merge_attempt(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A later write of an attempt: status moves until it ended; ids and end stick once set."""
    if old is None:
        return new
    return {**old,
            "status": new["status"] if old["ended_at"] is None else old["status"],
            "worker_id": new["worker_id"] or old["worker_id"],
            "task_id": new["task_id"] or old["task_id"],
            "ended_at": old["ended_at"] if old["ended_at"] is not None else new["ended_at"],
            "error": old["error"] if old["error"] is not None else new["error"]}


def merge_api_key(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A later write of a key: revocation sticks, last use only moves forward."""
    if old is None:
        return new
    last_used = new["last_used_at"] if (new["last_used_at"] or "") > (old["last_used_at"] or "") else old["last_used_at"]
    return {**old, "revoked_at": old["revoked_at"] or new["revoked_at"], "last_used_at": last_used}


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
