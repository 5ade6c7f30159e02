"""LocalControl: runs start and are steered inside the embedded System of this process."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from agentstage.runtime.clock import new_id, parse_ts, utc_now
from agentstage.runtime.control.base import RunControl, Started, Steered
from agentstage.runtime.errors import InvalidArgument, NotApplicable, NotFound, Refused, RunError
from agentstage.runtime.graph.builder import GraphError
from agentstage.runtime.system.graph_runs import last_seq
from agentstage.runtime.state.reader import RunRow
from agentstage.runtime.state.records import Event

__all__ = ["LocalControl"]

_VISIBLE_WAIT = 5.0
_SETTLING = ("run.completed", "run.failed", "run.cancelled", "run.waiting")
_RECHECK = 1.0
_NO_QUEUES = ("runs are not queued in local mode: this process runs them itself (serve `ui-api --distributed` "
              "with a coordinator and workers for queues and a DLQ)")


class LocalControl(RunControl):
    """Run control through the embedded System: nothing is queued, so there is no DLQ."""

    mode = "local"

    def _wait(self, run_id: str, timeout: float) -> RunRow | None:
        deadline = time.monotonic() + timeout
        with self.system.subscribe(run_id, _SETTLING) as feed:
            while (row := self._settled_row(run_id)) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                feed.get(timeout=min(remaining, _RECHECK))
        return row

    def check_start(self, *, agent: str = "default", workflow: str | None = None, run_id: str | None = None) -> None:
        if workflow is not None:
            graphs = self.system.graphs
            try:
                if graphs is None:
                    raise NotFound("workflow", workflow)
                graphs.graph(workflow)
            except NotFound:
                raise InvalidArgument("workflow", f"unknown workflow {workflow!r}") from None
            except GraphError as exc:
                raise InvalidArgument("workflow", "; ".join(exc.problems)) from None
        elif agent not in {spec.name for spec in self.system.agents()}:
            raise InvalidArgument("agent", f"unknown agent {agent!r}")
        super().check_start(agent=agent, workflow=workflow, run_id=run_id)

    def _start(self, input: str, agent: str, workflow: str | None, session: str | None, metadata: dict[str, Any],
               run_id: str | None) -> Started:
        system = self.system
        run_id, session = run_id or new_id(), session or new_id()
        with system.subscribe(run_id) as feed:
            if workflow is not None:
                system.graph_run_async(workflow, input, session=session, run_id=run_id, metadata=metadata)
            else:
                system.run_async(input, agent=agent, session=session, metadata=metadata, run_id=run_id)
            # NOTE: wait briefly for the run's first durable event, so a client can read the run right away.
            visible = feed.get(timeout=_VISIBLE_WAIT) is not None
        return Started(run_id, session, "started" if visible else "accepted")

    def _cancel(self, row: RunRow, reason: str) -> Steered:
        if row.status == "waiting":
            # NOTE: nothing holds a graph run that waits for input; its end is recorded here.
            self.system.write((Event(row.run_id, last_seq(self.system.reader(), row.run_id) + 1, "run.cancelled",
                                     utc_now(), row.session_id,
                                     {"reason": reason or "cancelled while waiting for input"}),))
            return Steered(row.run_id, "cancelled")
        self.system.cancel(row.run_id)
        return Steered(row.run_id, "cancelling")

    def _requeue(self, run_id: str, dlq_id: str) -> Steered:
        if dlq_id:
            raise NotApplicable("dlq", _NO_QUEUES)
        row = self._row(run_id)
        try:
            self.system.requeue(run_id)
        except (RunError, GraphError) as exc:
            raise Refused(run_id, str(exc)) from None
        return Steered(run_id, "requeued", attempt=row.attempt + 1)

    def _resume(self, row: RunRow, input: str | None) -> Started:
        try:
            handle = self.system.graph_resume_async(row.run_id, input=input)
        except (RunError, GraphError) as exc:
            raise Refused(row.run_id, str(exc)) from None
        return Started(handle.run_id, handle.session_id, "resumed")

    def _fork(self, row: RunRow, step: int, state_patch: dict[str, Any]) -> Started:
        try:
            handle = self.system.graph_fork_async(row.run_id, step, state_patch)
        except (RunError, GraphError) as exc:
            raise Refused(row.run_id, str(exc)) from None
        return Started(handle.run_id, handle.session_id, "forked")

    def workers(self) -> list[dict[str, Any]]:
        """No worker processes serve a local runtime: the workers a store remembers, none of them alive."""
        now = datetime.now(UTC)
        return [{**row, "alive": False, "age_s": round((now - parse_ts(row["last_seen"])).total_seconds(), 3)}
                for row in self.system.reader().heartbeats()]

    def queues(self) -> list[dict[str, Any]]:
        raise NotApplicable("queues", _NO_QUEUES)

    def details(self) -> dict[str, Any]:
        raise NotApplicable("details", _NO_QUEUES)

    def dlq_list(self, limit: int = 50, run_id: str | None = None) -> list[dict[str, Any]]:
        raise NotApplicable("dlq", _NO_QUEUES)

    def dlq_show(self, dlq_id: str) -> dict[str, Any]:
        raise NotApplicable("dlq", _NO_QUEUES)

    def dlq_delete(self, dlq_id: str) -> None:
        raise NotApplicable("dlq", _NO_QUEUES)

    def dlq_purge(self) -> int:
        raise NotApplicable("dlq", _NO_QUEUES)
