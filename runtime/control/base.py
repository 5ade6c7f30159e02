"""The run-control interface: start and steer runs the same way whichever mode carries them.

A `RunControl` is chosen once, when the API (or an application) is built: `LocalControl` runs
everything in the embedded System, `QueuedControl` sends it to the coordinator and its workers.
Both check a request against the stored run in the same words before acting, so a caller sees
the same answers in both modes; what one mode truly cannot do raises `NotApplicable`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from agentstage.runtime.errors import InvalidArgument, NotFound, Refused
from agentstage.runtime.state.reader import RunRow
from agentstage.runtime.state.records import TERMINAL_STATUSES

if TYPE_CHECKING:
    from agentstage.actors.observer import AsyncSubscription
    from agentstage.runtime.system import System

__all__ = ["RunControl", "Started", "Steered"]

Hook = Callable[[], None] | None


def _call(hook: Hook) -> None:
    if hook is not None:
        hook()


@dataclass(frozen=True, slots=True)
class Started:
    """A run that was started, queued, resumed or forked (`status` says which)."""

    run_id: str
    session_id: str
    status: str


@dataclass(frozen=True, slots=True)
class Steered:
    """The answer to a cancel or requeue: `status` is cancelling, cancelled or requeued."""

    run_id: str
    status: str
    dlq_id: str | None = None
    attempt: int | None = None


class RunControl(ABC):
    """Starts, cancels, requeues, resumes, forks and streams runs; reads the System's store to check requests.

    Methods other than `stream` block (store reads, Redis calls): call them off the event loop. A
    steering method calls `before` (when given) once the request passed its checks and before it
    acts; the API writes its audit row there.
    """

    mode: ClassVar[str] = ""
    has_queues: ClassVar[bool] = False
    """Whether runs wait in queues with a dead-letter queue (`queues`, `dlq_*`, `details` answer)."""
    remote: ClassVar[bool] = False
    """Whether another process records the runs' events (live readers poll the store for them)."""

    def __init__(self, system: System) -> None:
        self.system = system

    def capabilities(self) -> dict[str, Any]:
        """What a client may offer: the mode and whether queues and a DLQ exist."""
        return {"mode": self.mode, "queues": self.has_queues, "dlq": self.has_queues}

    def check_start(self, *, agent: str = "default", workflow: str | None = None, run_id: str | None = None) -> None:
        """Refuse a start before it happens: InvalidArgument for an unknown target, Refused for a taken id."""
        if run_id is not None:
            try:
                self.system.reader().get_run(run_id)
            except NotFound:
                return
            raise Refused(run_id, "a run with this id exists", field="run_id")

    def start(self, input: str, *, agent: str = "default", workflow: str | None = None, session: str | None = None,
              metadata: Mapping[str, Any] | None = None, run_id: str | None = None, before: Hook = None) -> Started:
        """Start a run of `agent` (or of `workflow`) on `input`; returns once it is stored or queued."""
        self.check_start(agent=agent, workflow=workflow, run_id=run_id)
        _call(before)
        return self._start(input, agent, workflow, session, dict(metadata or {}), run_id)

    def cancel(self, run_id: str, reason: str = "", *, before: Hook = None) -> Steered:
        """Stop a run: a queued or waiting one at once, a running one at its next step."""
        row = self._row(run_id)
        if row.status in TERMINAL_STATUSES:
            raise Refused(run_id, f"run {run_id} already {row.status}")
        _call(before)
        return self._cancel(row, reason)

    def requeue(self, run_id: str, *, before: Hook = None) -> Steered:
        """Run a failed or cancelled run again as a new attempt."""
        row = self._row(run_id)
        if row.status not in ("failed", "cancelled"):
            raise Refused(run_id, f"run {run_id} is {row.status}; only failed or cancelled runs are requeued")
        _call(before)
        return self._requeue(row.run_id, "")

    def resume(self, run_id: str, input: str | None = None, *, before: Hook = None) -> Started:
        """Continue a graph run from its latest checkpoint: a waiting one with `input`, a failed one without."""
        row = self._graph_row(run_id)
        if row.status == "waiting" and input is None:
            raise InvalidArgument("input", "the run waits for input")
        if row.status == "failed" and input is not None:
            raise InvalidArgument("input", "the run is not waiting for input")
        if row.status not in ("waiting", "failed"):
            raise Refused(run_id, f"run {run_id} is {row.status}; only waiting or failed graph runs are resumed")
        _call(before)
        return self._resume(row, input)

    def fork(self, run_id: str, step: int, state_patch: Mapping[str, Any] | None = None, *,
             before: Hook = None) -> Started:
        """Start a new graph run from checkpoint `step` of `run_id`, its state updated with `state_patch`."""
        row = self._graph_row(run_id)
        try:
            self.system.reader().checkpoint(run_id, step)
        except NotFound:
            raise InvalidArgument("step", f"run {run_id} has no checkpoint at step {step}") from None
        _call(before)
        return self._fork(row, step, dict(state_patch or {}))

    def wait(self, run_id: str, timeout: float) -> RunRow | None:
        """The run's row once it has ended or waits for input; None when it has not within `timeout` s.

        A run started a moment ago may not be stored yet (a coordinator records queued runs): it counts as not settled.
        """
        row = self._settled_row(run_id)
        return row if row is not None else self._wait(run_id, timeout)

    def stream(self, run_id: str | None = None, types: Iterable[str] | None = None) -> AsyncSubscription:
        """A live feed of events (of one run) on the running event loop; call it on the loop."""
        return self.system.subscribe_async(run_id, types)

    def checks(self) -> dict[str, str]:
        """Readiness of what this mode needs beyond the store (`ok` or `down: reason`)."""
        return {}

    def close(self) -> None:
        """Release connections (the System is stopped by its owner)."""

    def _settled_row(self, run_id: str) -> RunRow | None:
        try:
            row = self.system.reader().get_run(run_id)
        except NotFound:
            return None
        return row if row.status in TERMINAL_STATUSES or row.status == "waiting" else None

    @abstractmethod
    def _wait(self, run_id: str, timeout: float) -> RunRow | None: ...

    def _row(self, run_id: str) -> RunRow:
        return self.system.reader().get_run(run_id)

    def _graph_row(self, run_id: str) -> RunRow:
        row = self._row(run_id)
        if row.kind != "graph" or not row.workflow:
            raise Refused(run_id, f"run {run_id} is not a graph run")
        return row

    @abstractmethod
    def _start(self, input: str, agent: str, workflow: str | None, session: str | None, metadata: dict[str, Any],
               run_id: str | None) -> Started: ...

    @abstractmethod
    def _cancel(self, row: RunRow, reason: str) -> Steered: ...

    @abstractmethod
    def _requeue(self, run_id: str, dlq_id: str) -> Steered: ...

    @abstractmethod
    def _resume(self, row: RunRow, input: str | None) -> Started: ...

    @abstractmethod
    def _fork(self, row: RunRow, step: int, state_patch: dict[str, Any]) -> Started: ...

    @abstractmethod
    def workers(self) -> list[dict[str, Any]]:
        """Workers with their last heartbeat, `alive` and `age_s`."""

    @abstractmethod
    def queues(self) -> list[dict[str, Any]]:
        """Per queue: length, pending, lag, oldest age (NotApplicable without queues)."""

    @abstractmethod
    def details(self) -> dict[str, Any]:
        """Queues, workers and DLQ in one, healthy or degraded with the reasons (NotApplicable without queues)."""

    @abstractmethod
    def dlq_list(self, limit: int = 50, run_id: str | None = None) -> list[dict[str, Any]]:
        """Dead-lettered tasks, newest first, only `run_id`'s when given (NotApplicable without queues)."""

    @abstractmethod
    def dlq_show(self, dlq_id: str) -> dict[str, Any]:
        """One dead-lettered task; NotFound when there is none."""

    @abstractmethod
    def dlq_delete(self, dlq_id: str) -> None:
        """Delete one dead-lettered task (its run is not requeued)."""

    @abstractmethod
    def dlq_purge(self) -> int:
        """Delete every dead-lettered task; returns how many there were."""

    def dlq_requeue(self, dlq_id: str, *, before: Hook = None) -> Steered:
        """Requeue the run of a dead-lettered task (the entry goes once it is requeued)."""
        entry = self.dlq_show(dlq_id)
        if not entry["run_id"]:
            raise Refused(dlq_id, f"DLQ entry {dlq_id} is not a run's task ({entry['reason']}); it can only be purged")
        _call(before)
        return self._requeue(entry["run_id"], dlq_id)
