"""QueuedControl: runs go to the coordinator over Redis and run on workers; this process only asks.

Requests are checked against the store first (the coordinator writes it), then sent as control
messages; the coordinator checks again when it acts, so a request racing another one is refused
there rather than carried out twice. Requeue, resume and fork wait for the coordinator's answer (up
to `reply_wait` seconds), so the run they name is stored when they return, as in local mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentstage.runtime.clock import new_id
from agentstage.runtime.control.base import RunControl, Started, Steered
from agentstage.runtime.errors import NotFound, Refused, StoreError
from agentstage.runtime.state.reader import RunRow

if TYPE_CHECKING:
    from agentstage.runtime.distributed.ops import RuntimeOps
    from agentstage.runtime.system import System

__all__ = ["QueuedControl"]

_DETAILS_DLQ = 20


class QueuedControl(RunControl):
    """Run control through a coordinator and its workers (`ops` reaches their Redis)."""

    mode = "queued"
    has_queues = True
    remote = True

    def __init__(self, system: System, ops: RuntimeOps, *, reply_wait: float = 10.0) -> None:
        super().__init__(system)
        self.ops = ops
        self.reply_wait = reply_wait

    def _wait(self, run_id: str, timeout: float) -> RunRow | None:
        if self.ops.wait(run_id, timeout) is None:
            return None
        return self._settled_row(run_id)

    def _start(self, input: str, agent: str, workflow: str | None, session: str | None, metadata: dict[str, Any],
               run_id: str | None) -> Started:
        admitted = self.ops.enqueue(input, mode="graph" if workflow else "run", agent=agent, workflow=workflow or "",
                                    session=session, metadata=metadata, run_id=run_id)
        return Started(admitted["run_id"], admitted["session_id"], "queued")

    def _cancel(self, row: RunRow, reason: str) -> Steered:
        try:
            self.ops.cancel(row.run_id, reason)
        except NotFound:
            raise Refused(row.run_id, f"run {row.run_id} has already ended") from None
        return Steered(row.run_id, "cancelling")

    def _requeue(self, run_id: str, dlq_id: str) -> Steered:
        requeued = self.ops.requeue(run_id, dlq_id, wait=self.reply_wait)
        return Steered(run_id, "requeued", dlq_id=dlq_id or None, attempt=requeued["attempt"])

    def _resume(self, row: RunRow, input: str | None) -> Started:
        self.ops.resume(row.run_id, input, wait=self.reply_wait)
        return Started(row.run_id, row.session_id, "resumed")

    def _fork(self, row: RunRow, step: int, state_patch: dict[str, Any]) -> Started:
        forked = self.ops.fork(row.run_id, step, state_patch, new_run_id=new_id(), wait=self.reply_wait)
        return Started(forked["run_id"], row.session_id, "forked")

    def workers(self) -> list[dict[str, Any]]:
        return self.ops.workers()

    def queues(self) -> list[dict[str, Any]]:
        return self.ops.queues()

    def details(self) -> dict[str, Any]:
        queues, workers, dlq = self.ops.queues(), self.ops.workers(), self.ops.dlq_list(_DETAILS_DLQ)
        dlq_count = next((q["length"] for q in queues if q["kind"] == "dlq"), len(dlq))
        alive = sum(1 for w in workers if w["alive"])
        reasons = []
        waiting = sum(q["lag"] + q["pending"] for q in queues if q["kind"] == "stream")
        if alive == 0:
            reasons.append("no worker is alive" + (f" and {waiting} tasks wait" if waiting else ""))
        lost = [w["worker_id"] for w in workers if w["status"] == "lost"]
        if lost:
            reasons.append(f"lost workers: {', '.join(lost)}")
        if dlq_count:
            reasons.append(f"{dlq_count} dead-lettered tasks")
        return {"status": "degraded" if reasons else "healthy", "reasons": reasons, "queues": queues,
                "workers": workers, "worker_count": len(workers), "alive_workers": alive, "dlq": dlq,
                "dlq_count": dlq_count}

    def dlq_list(self, limit: int = 50, run_id: str | None = None) -> list[dict[str, Any]]:
        return self.ops.dlq_list(limit, run_id)

    def dlq_show(self, dlq_id: str) -> dict[str, Any]:
        return self.ops.dlq_show(dlq_id)

    def dlq_delete(self, dlq_id: str) -> None:
        self.ops.dlq_delete(dlq_id)

    def dlq_purge(self) -> int:
        return self.ops.dlq_purge()

    def checks(self) -> dict[str, str]:
        try:
            self.ops.ping()
        except StoreError as exc:
            return {"redis": f"down: {exc.reason}"}
        return {"redis": "ok"}

    def close(self) -> None:
        self.ops.close()
