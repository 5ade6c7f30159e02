"""Durable record types: what the store writes, each with a natural key so replays are no-ops."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiKey",
    "AuditEntry",
    "CatalogEntry",
    "Checkpoint",
    "EffectIntent",
    "EvalCaseResult",
    "EvalRun",
    "Event",
    "QueueEvent",
    "Record",
    "RunAttempt",
    "Schedule",
    "ScheduleFire",
    "ScheduleRemoved",
    "SessionItem",
    "ToolEffect",
    "USAGE_EVENTS",
    "WorkerHeartbeat",
    "attempt_transitions",
]

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})

USAGE_EVENTS = frozenset({"llm.response", "llm.retry", "llm.error"})
"""Events whose `data.usage` adds to the run's tokens: answers, and failed calls whose server reported usage."""


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened in a run; key `(run_id, seq)`.

    Run rows are a projection of these: `run.queued`, `run.started`, `run.waiting`,
    `run.completed`, `run.failed`, `run.cancelled` move the status, `USAGE_EVENTS` add usage.
    """

    run_id: str
    seq: int
    type: str
    ts: str
    session_id: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    node: str | None = None
    tool: str | None = None
    provider: str | None = None
    duration_ms: float | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Graph state after a node transition; key `(run_id, step)`."""

    run_id: str
    step: int
    node: str
    next_node: str | None
    state: dict[str, Any]
    ts: str
    version: int = 1


@dataclass(frozen=True, slots=True)
class RunAttempt:
    """One attempt of a run on a worker; key `(run_id, attempt)`; later writes update it.

    `claimed_at` and `acked_at` are its task's `claimed` and `acked` queue transitions (the first one
    written stands); stores read them back as queue events. PERF: on the attempt's own row, they cost
    a no-op run two row writes fewer than two queue events did.
    """

    run_id: str
    attempt: int
    status: str
    started_at: str
    task_id: str = ""
    worker_id: str = ""
    ended_at: str | None = None
    error: str | None = None
    claimed_at: str | None = None
    acked_at: str | None = None


@dataclass(frozen=True, slots=True)
class WorkerHeartbeat:
    """A worker's liveness report; key `worker_id`; the newest `last_seen` wins."""

    worker_id: str
    host: str
    pid: int
    started_at: str
    last_seen: str
    in_flight: int = 0
    status: str = "running"
    concurrency: int = 0


@dataclass(frozen=True, slots=True)
class QueueEvent:
    """A task's queue transition (enqueued, retried, dead_lettered, cancelled, ...); key `(task_id, attempt, kind)`.

    `claimed` and `acked` are written on the attempt (`RunAttempt.claimed_at`, `acked_at`); stores still
    take them as queue events too.
    """

    task_id: str
    attempt: int
    kind: str
    ts: str
    run_id: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def attempt_transitions(attempt: RunAttempt) -> list[QueueEvent]:
    """The queue transitions an attempt record carries (`claimed`, `acked`), for stores that keep them as
    queue events."""
    found = []
    if attempt.claimed_at is not None:
        found.append(QueueEvent(attempt.task_id, attempt.attempt, "claimed", attempt.claimed_at, attempt.run_id,
                                {"worker_id": attempt.worker_id}))
    if attempt.acked_at is not None:
        found.append(QueueEvent(attempt.task_id, attempt.attempt, "acked", attempt.acked_at, attempt.run_id,
                                {"status": attempt.status, "worker_id": attempt.worker_id}))
    return found


@dataclass(frozen=True, slots=True)
class ToolEffect:
    """A completed side-effecting tool call; key = idempotency key `run_id:step:tool_call_id`."""

    key: str
    run_id: str
    tool: str
    result: Any
    ts: str


@dataclass(frozen=True, slots=True)
class EffectIntent:
    """A side-effecting tool call about to run; key = its idempotency key. `owner` is the journal that runs it.

    Recorded (durably) before the call, removed when the call's `ToolEffect` is recorded: an intent
    without an effect is a call whose process died during it, so its outcome is unknown.
    """

    key: str
    run_id: str
    owner: str
    ts: str


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key, stored as a hash with a visible prefix; key `id`."""

    id: str
    prefix: str
    key_hash: str
    role: str
    name: str
    created_at: str
    expires_at: str | None = None
    revoked_at: str | None = None
    last_used_at: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited API action or denial; key `id`."""

    id: str
    ts: str
    action: str
    outcome: str
    key_id: str | None = None
    role: str | None = None
    target: str = ""
    request_id: str = ""
    client: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SessionItem:
    """A value a tool keeps for one session (memory_store, todo_manager); key
    `(session_id, namespace, key)`; `value=None` deletes it."""

    session_id: str
    namespace: str
    key: str
    value: Any
    ts: str
    expires_at: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """A runtime definition (custom HTTP tool, tool instance, workflow tool binding); key
    `(kind, name)`; `body=None` deletes it. Bodies hold credential references, never secrets."""

    kind: str
    name: str
    body: dict[str, Any] | None
    ts: str


@dataclass(frozen=True, slots=True)
class EvalRun:
    """An evaluation of a dataset; key `eval_id`. Later writes move it on until it ended (`ended_at` set)."""

    eval_id: str
    agent: str
    status: str
    started_at: str
    fail_under: float
    dataset: str = ""
    ended_at: str | None = None
    cases: int = 0
    passed: int = 0
    pass_rate: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class EvalCaseResult:
    """How one case of an evaluation went, linked to its run; key `(eval_id, case_id)`; the latest write wins."""

    eval_id: str
    case_id: str
    position: int
    status: str
    run_id: str
    result: dict[str, Any]
    ts: str


@dataclass(frozen=True, slots=True)
class Schedule:
    """When to start a run (a 5-field `cron` in `timezone`, or every `every_s` seconds) and of what; key `name`.

    A later write replaces it but keeps `created_at`. Ticks count from `since` (creation, a change of
    timing, or the last enable), so ticks that passed while it was disabled are not missed ticks.
    `condition` (of the write, not stored): "create" refuses a name that exists, "update" one that does not.
    """

    name: str
    agent: str
    input: str
    enabled: bool
    since: str
    created_at: str
    updated_at: str
    cron: str | None = None
    timezone: str = "UTC"
    every_s: float | None = None
    workflow: str | None = None
    grace_s: float = 300.0
    config: dict[str, Any] = field(default_factory=dict)
    condition: str = ""


@dataclass(frozen=True, slots=True)
class ScheduleRemoved:
    """A schedule deleted, with its history; key `name`."""

    name: str
    ts: str


@dataclass(frozen=True, slots=True)
class ScheduleFire:
    """One firing of a schedule at `tick` (or a missed tick skipped); key `(name, tick)`; also its history row.

    The first write of a key claims the tick for `owner` (the lease: one scheduler fires it); later
    writes by the same owner record how it went. A `claimed` row last written before `steal_before`
    is taken over by the writer (its owner died between claiming and starting the run).
    """

    name: str
    tick: str
    trigger: str
    owner: str
    status: str
    ts: str
    run_id: str = ""
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    steal_before: str = ""


Record = (Event | Checkpoint | RunAttempt | WorkerHeartbeat | QueueEvent | ToolEffect | EffectIntent | ApiKey
          | AuditEntry | SessionItem | CatalogEntry | EvalRun | EvalCaseResult | Schedule | ScheduleRemoved
          | ScheduleFire)
