"""CoordinatorActor: admits runs, publishes Tasks, records what workers report, retries and dead-letters.

It is the only writer of its SQLite file. Each batch of stream entries becomes one `Write` to
the StoreActor; the Redis side effects of the batch (ack entries, schedule retries, dead-letter)
run only after that write committed, in one MULTI/EXEC through the bridge. A first attempt's
task is published at once, while its admission is recorded, so a burst does not wait behind its
bookkeeping. A crash in between leaves the entries pending, and replaying them is harmless: every
record has a natural key and a first attempt's `task_id` is its `run_id`, so workers dedupe it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from loguru import logger

from agentstage.actors.bridge import Send
from agentstage.actors.coordination import (ActiveRun, Batch, Delivered, Load, Tick, child_progress,
                                            unfinished_children)
from agentstage.actors.heartbeat import read_workers, unserved_reason
from agentstage.runtime.wire import (
    Cancel,
    Enqueue,
    Fork,
    Heartbeat,
    Requeue,
    RequeueAnswer,
    RunOutcome,
    Resume,
    SessionAnswer,
    SessionRequest,
    Task,
    TaskDone,
    TaskRecords,
    TaskReleased,
    from_wire,
    to_wire,
)
from agentstage.actors.steering import Steering
from agentstage.actors.store import write_until_durable
from agentstage.runtime.state.fanout_state import advanced
from agentstage.actors.supervision import Slot, SupervisedActor
from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.config import Config
from agentstage.runtime.errors import DecodeError, NotFound, StoreError
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.items import session_items
from agentstage.runtime.state.records import Event, QueueEvent, RunAttempt, SessionItem, WorkerHeartbeat
from agentstage.runtime.streams import (
    COORDINATOR_GROUP,
    KEY_TTL,
    WORKERS_GROUP,
    Entry,
    StreamLayout,
    dlq_fields,
    retry_delay,
)
from agentstage.runtime.transport import UNAVAILABLE, Refused

__all__ = ["CoordinatorActor"]

_ENDED = frozenset({"completed", "failed", "cancelled", "waiting"})
"""Stored statuses of a run no attempt is executing: whatever an attempt still reports for it is stale."""
_SERVED_FOR = 1.0
"""Seconds the heartbeat rows read for admission are reused while they show a worker for the run."""
_EARLY_CANCELS = 10_000
"""Cancels of runs not admitted yet that a coordinator remembers, at most (the oldest are forgotten)."""
_UNSERVED_FOR = 0.1
"""Seconds rows showing no worker for a run are reused: a worker that just started is seen almost at once."""


class CoordinatorActor(SupervisedActor, Steering):
    """Schedules runs over Redis Streams and records them in the local store."""

    def __init__(self, config: Config, layout: StreamLayout, store: Slot, bridge: Slot,
                 reader: Callable[[], SQLiteReader], load: Load, reaper: Any = None,
                 slot: Slot | None = None) -> None:
        super().__init__(slot)
        self.config = config
        self.layout = layout
        self.store = store
        self.bridge = bridge
        self.reader = reader
        self.load = load
        self.reaper = reaper
        self.active: dict[str, ActiveRun] = {}
        self.finishing: set[str] = set()
        self._early_cancels: dict[str, None] = {}
        """Runs cancelled before this coordinator admitted them (their Cancel came first), oldest first."""
        self._workers: tuple[float, list[dict[str, Any]]] = (0.0, [])
        self._reasons: dict[tuple[str, str, str], str | None] = {}

    def receive(self, message: Any) -> None:
        if isinstance(message, Delivered):
            batch = Batch()
            cancelled = self._cancelled_before_admission(message.entries) if message.redelivered else set()
            for entry in message.entries:
                self._handle(entry, batch, cancelled, message.redelivered)
                batch.ops.append(("xack", entry.stream, COORDINATOR_GROUP, entry.entry_id))
            self.submit(batch, len(message.entries))
            self.load.active = len(self.active)
        elif isinstance(message, Batch):
            self.submit(message, 0)
        elif isinstance(message, Tick):
            if self.reaper is not None:
                self.reaper.tick(self)
                self.load.active = len(self.active)
        else:
            raise TypeError(f"CoordinatorActor cannot handle {type(message).__name__}")

    def submit(self, batch: Batch, entries: int) -> None:
        """Commit `batch.records`, then apply `batch.ops` in Redis, then run `batch.after`.

        A failed commit (a lock held past the busy timeout, a full disk) is retried with backoff
        until it lands, so what this coordinator already decided in memory becomes true without a
        restart; the batch's entries stay pending in Redis until then.
        """
        def done() -> None:
            for callback in batch.after:
                callback()
            self._release(entries)

        if batch.dispatch:
            # PERF: a burst's first runs start while their admission is still being recorded
            self.bridge.tell(Send(tuple(batch.dispatch)))
        ops = tuple(batch.ops)
        if batch.ended:
            # PERF: one script sets every done key and announces every end, not a SET and a PUBLISH per run
            ops += (("set_publish", KEY_TTL, self.layout.ended, tuple(batch.ended)),)
        write_until_durable(self.store, tuple(batch.records), lambda: self.bridge.tell(Send(ops, done)))

    def _release(self, count: int) -> None:
        if count:
            self.load.release(count)

    def _handle(self, entry: Entry, batch: Batch, cancelled: set[str], redelivered: bool = False) -> None:
        message = entry.message
        if isinstance(message, Enqueue):
            if redelivered and self._admitted_before(message.run_id):
                return
            early = message.run_id in self._early_cancels
            self._early_cancels.pop(message.run_id, None)
            self._admit(message, batch, cancelled=early or message.run_id in cancelled)
        elif isinstance(message, TaskRecords):
            self._records(message, batch)
        elif isinstance(message, TaskDone):
            self._done(message, batch)
        elif isinstance(message, TaskReleased):
            run = self.active.get(message.run_id) or self._recover(message.run_id, message.entry_id)
            task = run.task if run is not None else None
            if task is not None and task.attempt == message.attempt:
                self.retry(task, message.entry_id, message.worker_id, message.reason, batch)
            else:
                batch.ops.append(("xack", self.layout.tasks, WORKERS_GROUP, message.entry_id))
        elif isinstance(message, Heartbeat):
            batch.records.append(WorkerHeartbeat(message.worker_id, message.host, message.pid, message.started_at,
                                                 message.last_seen, message.in_flight, message.status,
                                                 message.concurrency))
        elif isinstance(message, Cancel):
            self._cancel(message, batch)
        elif isinstance(message, Requeue):
            self._requeue(message, batch)
        elif isinstance(message, Resume):
            self._resume(message, batch)
        elif isinstance(message, Fork):
            self._fork(message, batch)
        elif isinstance(message, SessionRequest):
            batch.ops.append(("set", self.layout.reply_key(message.reply_to), to_wire(self._session(message, batch)),
                              300))
        else:
            logger.warning("coordinator ignores {} on {}", type(message).__name__, entry.stream)

    def _session(self, m: SessionRequest, batch: Batch) -> SessionAnswer:
        """A worker's read of session tool state (answered from the store) or write (answered once committed)."""
        if m.values is None:
            try:
                items = session_items(self.reader(), m.session_id, m.namespace, utc_now())
            except StoreError as exc:
                return SessionAnswer(error=exc.reason)
            return SessionAnswer({key: list(entry) for key, entry in items.items()})
        now = utc_now()
        for key, entry in m.values.items():
            if entry is not None and not (isinstance(entry, list) and len(entry) == 2
                                          and (entry[1] is None or isinstance(entry[1], str))):
                return SessionAnswer(error=f"session item {key!r}: expected [value, expires_at] or null")
        batch.records.extend(SessionItem(m.session_id, m.namespace, key, None if entry is None else entry[0], now,
                                         None if entry is None else entry[1]) for key, entry in m.values.items())
        return SessionAnswer()

    def _remember_early_cancel(self, run_id: str) -> None:
        """A Cancel of a run not admitted here: its Enqueue, if it comes later, ends the run at admission."""
        self._early_cancels[run_id] = None
        if len(self._early_cancels) > _EARLY_CANCELS:
            del self._early_cancels[next(iter(self._early_cancels))]

    def _cancelled_before_admission(self, entries: tuple[Entry, ...]) -> set[str]:
        """The runs of these replayed Enqueue entries whose cancel key is set, in one round trip.

        A Cancel travels on the control stream and its Enqueue on the admit stream, read apart, so
        the Cancel may come first and find no run to end; the run must then end at admission. A live
        coordinator remembers such Cancels (no round trip per admission); after a restart it asks Redis
        for the entries it replays. A Cancel whose Enqueue is read first ends the run as any queued run's
        (and a worker claiming the task sees the cancel key and never starts it).
        """
        run_ids = [e.message.run_id for e in entries
                   if isinstance(e.message, Enqueue) and e.message.run_id not in self.active]
        if not run_ids or self.reaper is None:
            return set()
        try:
            found = self.reaper.transport.apply([("exists", self.layout.cancel_key(r)) for r in run_ids], atomic=False)
        except UNAVAILABLE:
            return set()
        return {run_id for run_id, hit in zip(run_ids, found) if hit}

    def _admitted_before(self, run_id: str) -> bool:
        """Whether a run whose admission is replayed after a restart already went past it (its task was published
        before its admission committed, and a worker took it): then it is not admitted again."""
        if run_id in self.finishing:
            return True
        try:
            return self.reader().get_run(run_id).status != "queued"
        except (NotFound, StoreError):
            return False

    def _admit(self, m: Enqueue, batch: Batch, *, cancelled: bool = False) -> None:
        if m.run_id in self.active:
            return
        history = self.reader().session_history(m.session_id) if m.continue_session else ()
        task = Task(m.run_id, m.run_id, m.session_id, m.input, m.mode, m.agent, m.workflow, 1, 2, history,
                    dict(m.metadata), None, m.enqueued_at or utc_now())
        now = utc_now()
        batch.records.append(Event(m.run_id, 1, "run.queued", now, m.session_id, {
            "input": m.input, "kind": "agent" if m.mode == "run" else "graph", "agent": m.agent,
            "workflow": m.workflow or None, "metadata": m.metadata, "attempt": 1, "mode": m.mode}))
        if cancelled:
            # NOTE: its task is never published, so no entry of this attempt is left for a worker or the reaper.
            batch.records.append(Event(m.run_id, 2, "run.cancelled", now, m.session_id,
                                       {"reason": "cancelled before it was queued", "attempt": 1}))
            batch.records.append(RunAttempt(m.run_id, 1, "cancelled", now, task.task_id, "", now, None))
            self._finish(RunOutcome(m.run_id, "cancelled", ended_at=now), batch)
            return
        reason = self._unserved(m)
        if reason is not None:
            # NOTE: the run waits all the same (a worker serving it may start); the event says why it may wait long.
            batch.records.append(Event(m.run_id, 2, "run.unserved", now, m.session_id, {
                "agent": m.agent if m.mode == "run" else None, "workflow": m.workflow or None, "reason": reason}))
            task = dataclasses.replace(task, first_seq=3)
        batch.records.append(QueueEvent(task.task_id, 1, "enqueued", now, m.run_id, {"mode": m.mode}))
        batch.dispatch.append(("xadd", self.layout.tasks, to_wire(task), None))
        self.active[m.run_id] = ActiveRun(task, task.first_seq - 1)

    def _unserved(self, m: Enqueue) -> str | None:
        """Why no live worker would take this run now, from heartbeat rows read at most once a second,
        or after a tenth of a second when the rows in hand show none for it."""
        if self.reaper is None:
            return None
        read_at, workers = self._workers
        age = time.monotonic() - read_at
        reason = self._reason(workers, m)
        if age > _SERVED_FOR or (reason is not None and age > _UNSERVED_FOR):
            try:
                workers = read_workers(self.reaper.transport, self.layout)
            except UNAVAILABLE:
                return None
            self._workers, self._reasons = (time.monotonic(), workers), {}
            reason = self._reason(workers, m)
        return reason

    def _reason(self, workers: list[dict[str, Any]], m: Enqueue) -> str | None:
        """`unserved_reason` for this run's kind, once per kind while the same heartbeat rows are in hand."""
        kind = (m.mode, m.agent, m.workflow)
        if kind not in self._reasons:
            self._reasons[kind] = unserved_reason(workers, m.mode, m.agent, m.workflow)
        return self._reasons[kind]

    def _cancel(self, m: Cancel, batch: Batch) -> None:
        """Record a cancel; a run no worker has claimed ends now (a worker that finds it later acks it)."""
        run = self.active.get(m.run_id)
        if m.attempt and (run is None or run.task.attempt != m.attempt):
            logger.info("cancel of run {} attempt {} ignored: not its current attempt", m.run_id, m.attempt)
            return
        task_id, attempt = (run.task.task_id, run.task.attempt) if run else (m.run_id, 0)
        now = utc_now()
        batch.records.append(QueueEvent(task_id, attempt, "cancelled", now, m.run_id, {"reason": m.reason}))
        if run is None:
            self._remember_early_cancel(m.run_id)
            self._cancel_waiting(m, batch)
            return
        if run.claimed or self._held_by_worker(run.task):
            return
        # NOTE: the cancel key was set before this message was sent, so a worker claiming the task from now
        # on ends it unstarted, with this same seq (its task's first_seq). Taking the attempt's claim as well
        # keeps its entry from ever starting once a requeue has removed the cancel key.
        batch.ops.append(("setnx", self.layout.claim_key(run.task.task_id, run.task.attempt), "coordinator",
                          KEY_TTL))
        batch.records.append(Event(m.run_id, run.task.first_seq, "run.cancelled", now, run.task.session_id,
                                   {"reason": m.reason or "cancelled while queued", "attempt": run.task.attempt}))
        batch.records.append(RunAttempt(m.run_id, attempt, "cancelled", now, task_id, "", now, None))
        self._finish(RunOutcome(m.run_id, "cancelled", ended_at=now), batch)

    def _held_by_worker(self, task: Task) -> bool:
        """Whether a worker claimed this attempt (its claim key exists); True when Redis cannot tell."""
        if self.reaper is None:
            return True
        try:
            return self.reaper.transport.exists(self.layout.claim_key(task.task_id, task.attempt))
        except UNAVAILABLE:
            return True

    def _records(self, m: TaskRecords, batch: Batch) -> None:
        run = self.active.get(m.run_id)
        if m.attempt == 0:
            # NOTE: journalled effects (and records of workers from before attempts were stamped) name no attempt:
            # effects always count; anything else only while no attempt of the run is active.
            batch.records.extend(m.effects if run is not None else (*m.events, *m.effects, *m.checkpoints))
            return
        if self._stale(m.run_id, m.attempt, run):
            self._refuse(m, batch)
            return
        batch.records.extend((*m.events, *m.effects, *m.checkpoints))
        if run is not None:
            own = [e for e in m.events if e.run_id == m.run_id]
            if own:
                run.last_seq = max(run.last_seq, own[-1].seq)
            for cp in m.checkpoints:
                if run.checkpoint is None or cp.step >= run.checkpoint["step"]:
                    run.checkpoint = advanced(run.checkpoint, {"step": cp.step, "node": cp.node,
                                                               "next_node": cp.next_node, "state": cp.state})
            if run.claimed:
                return
            run.claimed, run.worker_id = True, m.worker_id
        started = m.events[0].ts if m.events else utc_now()
        batch.records.append(RunAttempt(m.run_id, m.attempt, "running", started, m.task_id, m.worker_id,
                                        claimed_at=started))

    def _stale(self, run_id: str, attempt: int, run: ActiveRun | None) -> bool:
        """Whether `attempt` is not the run's current attempt (fencing: a superseded attempt records nothing).

        An active run answers from memory; a run this coordinator does not hold (it ended, or the
        coordinator restarted) from its stored row.
        """
        if run is not None:
            return attempt != run.task.attempt
        if run_id in self.finishing:
            return True
        try:
            row = self.reader().get_run(run_id)
        except (NotFound, StoreError):
            return False
        return row.status in _ENDED or row.attempt > attempt

    def _refuse(self, m: TaskRecords | TaskDone, batch: Batch) -> None:
        """Drop what a superseded attempt reports, except the effects it performed (never to be repeated)."""
        logger.info("refusing {} of run {} attempt {} from worker {}: not the run's current attempt",
                    type(m).__name__, m.run_id, m.attempt, m.worker_id)
        batch.records.extend(m.effects)

    def _done(self, m: TaskDone, batch: Batch) -> None:
        outcome = m.outcome
        retry = outcome.status == "failed" and outcome.retryable
        run = self.active.get(m.run_id)
        if run is None and retry:
            run = self._recover(m.run_id, m.entry_id)
        if m.attempt and self._stale(m.run_id, m.attempt, run):
            self._refuse(m, batch)
            batch.ops.append(("xack", self.layout.tasks, WORKERS_GROUP, m.entry_id))
            return
        now = outcome.ended_at or utc_now()
        started = m.events[0].ts if m.events else now
        # NOTE: a run that wrote nothing before its end (inline answers) is claimed and done at once.
        claims = run is not None and not run.claimed and bool(m.attempt)
        if claims:
            run.claimed, run.worker_id = True, m.worker_id
        retried = retry and run is not None
        attempt = RunAttempt(m.run_id, m.attempt, outcome.status, started, m.task_id, m.worker_id, now,
                             outcome.error, claimed_at=started if claims else None, acked_at=None if retried else now)
        if retried:
            failed = [e for e in m.events if e.type == "run.failed"]
            kept = [e for e in m.events if e.type != "run.failed"]
            batch.records.extend((*kept, *m.effects, *m.checkpoints, attempt))
            if kept:
                run.last_seq = max(run.last_seq, kept[-1].seq)
            if failed:
                run.last_seq = max(run.last_seq, failed[0].seq - 1)
            self.retry(run.task, m.entry_id, m.worker_id, outcome.error or "failed", batch, recorded=True)
            return
        batch.records.extend((*m.events, *m.effects, *m.checkpoints, attempt))
        batch.ops.append(("xack", self.layout.tasks, WORKERS_GROUP, m.entry_id))
        self._finish(outcome, batch)

    def _finish(self, outcome: RunOutcome, batch: Batch) -> None:
        """The run ended: forget it and publish `outcome` under its done key once the batch is durable."""
        run_id = outcome.run_id
        self.active.pop(run_id, None)
        # NOTE: until the end is committed and its done key set, the reaper must not take the run's
        # still-pending task entry for a lost lease (a commit may be retried for a while).
        self.finishing.add(run_id)
        batch.ended.append((self.layout.done_key(run_id), to_wire(outcome), run_id))
        batch.after.append(lambda: self.finishing.discard(run_id))

    def retry(self, task: Task, entry_id: str, worker_id: str, reason: str, batch: Batch,
              *, recorded: bool = False) -> None:
        """The attempt in `entry_id` ended without success: schedule the next attempt or dead-letter."""
        run = self.active.get(task.run_id)
        last_seq = run.last_seq if run is not None else self._stored_last_seq(task.run_id)
        now = utc_now()
        seq = last_seq + 1
        if not recorded:
            batch.records.append(RunAttempt(task.run_id, task.attempt, "failed", now, task.task_id, worker_id, now,
                                            reason))
        self._fail_orphans(task, batch, reason, now)
        batch.ops.append(("set", self.layout.fence_key(task.run_id), task.attempt + 1, KEY_TTL))
        if self._tries(task) >= self.config.task_max_attempts:
            error = f"dead-lettered after {task.attempt} attempts: {reason}"
            batch.records.append(Event(task.run_id, seq, "run.failed", now, task.session_id,
                                       {"error_type": "MaxAttempts", "attempt": task.attempt}, error=error))
            batch.records.append(QueueEvent(task.task_id, task.attempt, "dead_lettered", now, task.run_id,
                                            {"reason": reason, "worker_id": worker_id}))
            batch.ops.append(("dlq", self.layout.dlq, dlq_fields(
                stream=self.layout.tasks, entry_id=entry_id, raw=to_wire(task), reason="max attempts reached",
                run_id=task.run_id, task_id=task.task_id, attempts=task.attempt, worker=worker_id, last_error=reason)))
            batch.ops.append(("xack", self.layout.tasks, WORKERS_GROUP, entry_id))
            self._finish(RunOutcome(task.run_id, "failed", None, error, "MaxAttempts", ended_at=now), batch)
            return
        delay = retry_delay(task.attempt, self.config.task_backoff, self.config.task_max_backoff,
                            self.config.task_jitter)
        checkpoint = run.checkpoint if run is not None and run.checkpoint is not None else task.checkpoint
        # NOTE: a resumed run's answer belongs to the checkpoint it came with; past it, the node has its input.
        moved = (checkpoint or {}).get("step") != (task.checkpoint or {}).get("step")
        following = dataclasses.replace(task, attempt=task.attempt + 1, first_seq=seq + 1,
                                        checkpoint=checkpoint if task.mode == "graph" else None,
                                        answer=None if moved else task.answer,
                                        children=self._children(task, batch))
        batch.records.append(Event(task.run_id, seq, "run.queued", now, task.session_id,
                                   {"attempt": following.attempt, "retry_of": task.attempt, "delay_s": round(delay, 3),
                                    "reason": reason}, error=reason))
        batch.records.append(QueueEvent(task.task_id, task.attempt, "retried", now, task.run_id,
                                        {"reason": reason, "delay_s": round(delay, 3), "worker_id": worker_id}))
        batch.ops.append(("zadd", self.layout.delayed, to_wire(following), time.time() + delay))
        batch.ops.append(("xack", self.layout.tasks, WORKERS_GROUP, entry_id))
        self.active[task.run_id] = ActiveRun(following, seq, checkpoint=following.checkpoint)

    def _fail_orphans(self, task: Task, batch: Batch, reason: str, now: str) -> None:
        """An agent task's child runs (delegations, handoffs) of the attempt that ended are failed, not left
        running: the next attempt does not continue them (the journal gives it their call's outcome, or that
        the outcome is unknown). A graph task's children are its next attempt's to start again."""
        if task.mode == "graph":
            return
        try:
            orphans = unfinished_children(self.reader(), task.run_id, batch.records)
        except (NotFound, StoreError) as exc:
            logger.warning("cannot read the child runs of run {} ({}); they may stay running", task.run_id, exc)
            return
        error = f"interrupted: attempt {task.attempt} of its parent run {task.run_id} ended ({reason})"
        for child, seq, session in orphans:
            batch.records.append(Event(child, seq + 1, "run.failed", now, session,
                                       {"error_type": "Interrupted", "parent_attempt": task.attempt}, error=error))

    def _children(self, task: Task, batch: Batch) -> dict[str, list[int]]:
        """A graph task's child runs so far (see `Task.children`); none for agent tasks or when the store fails."""
        if task.mode != "graph":
            return {}
        try:
            return child_progress(self.reader(), task.run_id, batch.records)
        except (NotFound, StoreError) as exc:
            logger.warning("cannot read the child runs of run {} ({}); their events may collide", task.run_id, exc)
            return {}

    def _requeue(self, m: Requeue, batch: Batch) -> None:
        def answer(reason: str | None, attempt: int = 0) -> None:
            if reason is not None:
                logger.info("requeue of run {} refused: {}", m.run_id, reason)
            if m.reply_to:
                answer = RequeueAnswer(m.run_id, reason is None, reason, attempt)
                batch.ops.append(("set", self.layout.reply_key(m.reply_to), to_wire(answer), 300))

        if m.run_id in self.active:
            answer("it is still queued or running")
            return
        try:
            row = self.reader().get_run(m.run_id)
        except (NotFound, StoreError) as exc:
            answer(str(exc))
            return
        if row.status not in ("failed", "cancelled"):
            answer(f"it is {row.status}; only failed or cancelled runs are requeued")
            return
        attempt = row.attempt + 1
        seq = row.last_seq + 1
        history = self.reader().session_history(row.session_id)
        mode = "run" if row.kind == "agent" else "graph"
        checkpoint = self._latest_checkpoint(row.run_id) if mode == "graph" else None
        task = Task(new_id(), row.run_id, row.session_id, row.input, mode, row.agent or "default",
                    row.workflow or "", attempt, seq + 1, history, dict(row.metadata), checkpoint, utc_now())
        task = dataclasses.replace(task, children=self._children(task, batch))
        now = utc_now()
        batch.records.append(Event(row.run_id, seq, "run.queued", now, row.session_id,
                                   {"attempt": attempt, "reason": "requeued", "dlq_id": m.dlq_id or None}))
        batch.records.append(QueueEvent(task.task_id, attempt, "requeued", now, row.run_id, {"dlq_id": m.dlq_id}))
        batch.ops.extend([("del", self.layout.cancel_key(row.run_id)), ("del", self.layout.done_key(row.run_id)),
                          ("xadd", self.layout.tasks, to_wire(task), None)])
        if m.dlq_id:
            batch.ops.append(("xdel", self.layout.dlq, m.dlq_id))
        answer(None, attempt)
        self.active[row.run_id] = ActiveRun(task, seq, checkpoint=checkpoint)

    def _latest_checkpoint(self, run_id: str) -> dict[str, Any] | None:
        try:
            found = self.reader().checkpoint(run_id)
        except (NotFound, StoreError):
            return None
        return {key: found[key] for key in ("step", "node", "next_node", "state")}

    def _recover(self, run_id: str, entry_id: str) -> ActiveRun | None:
        """After a coordinator restart: rebuild an unknown run from its task entry (still pending)."""
        if self.reaper is None:
            return None
        try:
            found = self.reaper.transport.entries(self.layout.tasks, entry_id, entry_id, count=1)
            task = from_wire(found[0][1].get(b"m", b""), self.config.max_entry_bytes) if found else None
        except (*UNAVAILABLE, Refused, DecodeError) as exc:
            logger.warning("cannot recover run {} from task entry {}: {}", run_id, entry_id, exc)
            return None
        if not isinstance(task, Task) or task.run_id != run_id:
            return None
        run = self.active[run_id] = ActiveRun(task, self._stored_last_seq(run_id))
        return run

    def _stored_last_seq(self, run_id: str) -> int:
        """The run's last recorded event seq (the row's `last_seq` counts status events only)."""
        try:
            seq = self.reader().get_run(run_id).last_seq
            while events := self.reader().events(run_id, after_seq=seq, limit=1000):
                seq = events[-1].seq
            return seq
        except (NotFound, StoreError):
            return 0
