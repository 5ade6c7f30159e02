"""The coordinator's half of steering graph runs: resume (human input), fork, cancel while waiting.

Mixed into `CoordinatorActor`; each handler runs on its thread, adds to the batch being built
(records first, then Redis ops) and answers under the request's reply key when it has one. A
resumed or forked run becomes a task that carries its checkpoint, so a worker continues it
from there; finished nodes never run again.
"""

from __future__ import annotations

from typing import Any

from loguru import logger

from agentstage.actors.coordination import ActiveRun, Batch
from agentstage.runtime.wire import Cancel, Fork, Resume, RunOutcome, SteerAnswer, Task, to_wire
from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.errors import NotFound, StoreError
from agentstage.runtime.state.records import Checkpoint, Event, QueueEvent

__all__ = ["Steering", "reply"]

_REPLY_TTL = 300


def reply(batch: Batch, key: str, run_id: str, reason: str | None, attempt: int = 0) -> None:
    """Answer a request under reply key `key` (when it has one): done, or refused with `reason`."""
    if key:
        batch.ops.append(("set", key, to_wire(SteerAnswer(run_id, reason is None, reason, attempt)), _REPLY_TTL))


class Steering:
    """Resume, fork and cancel-while-waiting for `CoordinatorActor` (which provides the attributes)."""

    config: Any
    layout: Any
    reader: Any
    active: dict[str, ActiveRun]
    _finish: Any
    _latest_checkpoint: Any
    _stored_last_seq: Any

    def _tries(self, task: Task) -> int:
        """How often this task has run: a resumed or requeued run's new task starts its own count of retries."""
        if task.task_id == task.run_id:
            return task.attempt
        try:
            first = min((e["attempt"] for e in self.reader().queue_events(task.task_id)), default=task.attempt)
        except StoreError:
            return task.attempt
        return task.attempt - first + 1

    def _steered_row(self, run_id: str, key: str, batch: Batch) -> Any:
        """The stored graph run `run_id` that no worker holds, or None after refusing the request."""
        if run_id in self.active:
            reason = "it is still queued or running"
        else:
            try:
                row = self.reader().get_run(run_id)
            except (NotFound, StoreError) as exc:
                reason = str(exc)
            else:
                if row.kind == "graph" and row.workflow:
                    return row
                reason = "it is not a graph run"
        logger.info("steering of run {} refused: {}", run_id, reason)
        reply(batch, key, run_id, reason)
        return None

    def _resume(self, m: Resume, batch: Batch) -> None:
        key = self.layout.reply_key(m.reply_to) if m.reply_to else ""
        row = self._steered_row(m.run_id, key, batch)
        if row is None:
            return
        if row.status != ("waiting" if m.input is not None else "failed"):
            reason = (f"it is {row.status}; " + ("only a waiting run takes input" if m.input is not None
                                                  else "a waiting run needs input, other runs cannot be resumed"))
            reply(batch, key, row.run_id, reason)
            return
        checkpoint = self._latest_checkpoint(row.run_id)
        attempt, seq = row.attempt + 1, self._stored_last_seq(row.run_id) + 1
        task = Task(new_id(), row.run_id, row.session_id, row.input, "graph", row.agent or "default", row.workflow,
                    attempt, seq + 1, (), dict(row.metadata), checkpoint, utc_now(), answer=m.input)
        now = utc_now()
        batch.records.append(Event(row.run_id, seq, "run.queued", now, row.session_id,
                                   {"attempt": attempt, "reason": "resumed", "with_input": m.input is not None}))
        batch.records.append(QueueEvent(task.task_id, attempt, "enqueued", now, row.run_id, {"resumed": True}))
        batch.ops.extend([("del", self.layout.cancel_key(row.run_id)), ("del", self.layout.done_key(row.run_id)),
                          ("xadd", self.layout.tasks, to_wire(task), None)])
        reply(batch, key, row.run_id, None, attempt)
        self.active[row.run_id] = ActiveRun(task, seq, checkpoint=checkpoint)

    def _fork(self, m: Fork, batch: Batch) -> None:
        key = self.layout.reply_key(m.reply_to) if m.reply_to else ""
        try:
            row = self.reader().get_run(m.run_id)
            source = self.reader().checkpoint(m.run_id, m.step)
        except (NotFound, StoreError) as exc:
            reply(batch, key, m.run_id, str(exc))
            return
        if row.kind != "graph" or not row.workflow:
            reply(batch, key, m.run_id, "it is not a graph run")
            return
        if m.new_run_id in self.active or self._stored_last_seq(m.new_run_id):
            reply(batch, key, m.run_id, f"run {m.new_run_id} exists")
            return
        state = {**source["state"], **m.state_patch}
        origin = {k: v for k, v in row.metadata.items() if k == "workflow_file"}
        metadata = {**origin, "forked_from": m.run_id, "fork_step": m.step}
        text = str(state.get("input", row.input))
        checkpoint = {"step": m.step, "node": source["node"], "next_node": source["next_node"], "state": state}
        task = Task(m.new_run_id, m.new_run_id, row.session_id, text, "graph", row.agent or "default", row.workflow,
                    1, 2, (), metadata, checkpoint, utc_now())
        now = utc_now()
        batch.records.append(Event(m.new_run_id, 1, "run.queued", now, row.session_id, {
            "input": text, "kind": "graph", "workflow": row.workflow, "metadata": metadata, "attempt": 1,
            "mode": "graph"}))
        batch.records.append(Checkpoint(m.new_run_id, m.step, source["node"], source["next_node"], state, now))
        batch.records.append(QueueEvent(task.task_id, 1, "enqueued", now, m.new_run_id, {"mode": "graph"}))
        batch.ops.append(("xadd", self.layout.tasks, to_wire(task), None))
        reply(batch, key, m.new_run_id, None, 1)
        self.active[m.new_run_id] = ActiveRun(task, 1, checkpoint=checkpoint)

    def _cancel_waiting(self, m: Cancel, batch: Batch) -> None:
        """A cancel of a run no worker holds: a graph run waiting for input ends `cancelled` now."""
        try:
            row = self.reader().get_run(m.run_id)
        except (NotFound, StoreError):
            return
        if row.status != "waiting":
            return
        now = utc_now()
        batch.records.append(Event(m.run_id, self._stored_last_seq(m.run_id) + 1, "run.cancelled", now,
                                   row.session_id, {"reason": m.reason or "cancelled while waiting for input",
                                                    "attempt": row.attempt}))
        self._finish(RunOutcome(m.run_id, "cancelled", ended_at=now), batch)
