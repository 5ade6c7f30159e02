"""WorkerActor: claims Tasks from the tasks stream and runs them on the local agent pool.

The worker never touches the coordinator's SQLite file. Its agents and graphs write to a
`TaskStreamSink` (their run sink, see `actors.sink`), which sends their records and the run's
`RunOutcome` on the results stream; the coordinator records them and only then acks the task. A task seen twice
(duplicate XADD) is claimed once (`SET NX` on its claim key); a task found cancelled is never
started; tasks left pending by a previous life of this worker are released for a retry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loguru import logger

from agentstage.actors.agent import StartRun
from agentstage.actors.bridge import Send, dead_letter
from agentstage.actors.nodes import ForwardingFuture
from agentstage.runtime.wire import RunAgent, RunOutcome, Task, TaskDone, TaskRecords, TaskReleased, to_wire
from agentstage.actors.pool import AgentPool
from agentstage.actors.supervision import Slot, SupervisedActor
from agentstage.runtime.clock import utc_now
from agentstage.runtime.futures import Reply
from agentstage.runtime.errors import AgentstageError
from agentstage.runtime.state.records import Event
from agentstage.runtime.streams import WORKERS_GROUP, Entry, StreamLayout
from agentstage.runtime.transport import StreamTransport, until_reachable

__all__ = ["Attempt", "Claimed", "Finished", "InFlight", "WorkerActor", "WorkerState"]


@dataclass(frozen=True, slots=True)
class Claimed:
    """Entries read from the tasks stream; `redelivered` when they were pending from a previous life."""

    entries: tuple[Entry, ...]
    redelivered: bool = False


Attempt = tuple[str, int]
"""One attempt of a run: `(run_id, attempt)`, the key of everything a worker holds for it."""


@dataclass(frozen=True, slots=True)
class Finished:
    """An attempt's TaskDone reached Redis; its slot is free again."""

    run_id: str
    attempt: int


@dataclass(frozen=True, slots=True)
class InFlight:
    """A task being run here and the tasks-stream entry it came from."""

    task: Task
    entry_id: str

    @property
    def key(self) -> Attempt:
        return self.task.run_id, self.task.attempt


@dataclass
class WorkerState:
    """What a worker holds, shared by its reader, actor, sink and monitor threads.

    Everything is keyed by attempt, never by run alone: an attempt this worker lost (its lease
    expired while the process was paused) may still be winding down when the run's next attempt
    starts here, and the stale one's cancel mark or records must never touch the new one.
    """

    worker_id: str
    concurrency: int
    running: dict[Attempt, InFlight] = field(default_factory=dict)
    cancelled: set[Attempt] = field(default_factory=set)
    reported: set[Attempt] = field(default_factory=set)
    """Attempts whose TaskDone is on its way to the coordinator, which acks their entries on reading it."""
    reserved: int = 0
    draining: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def free(self) -> int:
        """Slots to fill: what the reader passes as COUNT (0 while draining)."""
        with self.lock:
            return 0 if self.draining else max(self.concurrency - len(self.running) - self.reserved, 0)

    def reserve(self, count: int) -> None:
        with self.lock:
            self.reserved += count

    def start(self, flight: InFlight) -> None:
        with self.lock:
            self.running[flight.key] = flight
            self.reserved = max(self.reserved - 1, 0)

    def unreserve(self) -> None:
        with self.lock:
            self.reserved = max(self.reserved - 1, 0)

    def finish(self, run_id: str, attempt: int) -> InFlight | None:
        with self.lock:
            self.cancelled.discard((run_id, attempt))
            self.reported.discard((run_id, attempt))
            return self.running.pop((run_id, attempt), None)

    def report(self, run_id: str, attempt: int) -> None:
        """An attempt held here is sending its TaskDone: from now on its entry may be acked at any moment."""
        with self.lock:
            if (run_id, attempt) in self.running:
                self.reported.add((run_id, attempt))

    def lost(self, flight: InFlight) -> bool:
        """Whether a flight whose entry is no longer pending for this worker lost its lease: it is still held
        here and has not reported its end (an ended one's entry was acked by the coordinator)."""
        with self.lock:
            return self.running.get(flight.key) is flight and flight.key not in self.reported

    def get(self, run_id: str, attempt: int) -> InFlight | None:
        with self.lock:
            return self.running.get((run_id, attempt))

    def in_flight(self) -> list[InFlight]:
        with self.lock:
            return list(self.running.values())

    def earlier(self, run_id: str, attempt: int) -> list[InFlight]:
        """The attempts of `run_id` before `attempt` still held here (their leases were lost)."""
        with self.lock:
            return [f for (run, number), f in self.running.items() if run == run_id and number < attempt]

    def is_cancelled(self, run_id: str, attempt: int) -> bool:
        """The agent loop's and graph's cancel check of one attempt, called at every step boundary."""
        return (run_id, attempt) in self.cancelled

    def cancel(self, run_id: str, attempt: int = 0) -> None:
        """Mark attempt `attempt` of a run held here cancelled; 0: every attempt of it held here."""
        with self.lock:
            for key in self.running:
                if key[0] == run_id and attempt in (0, key[1]):
                    self.cancelled.add(key)

    def abandon(self, run_id: str, attempt: int) -> None:
        """Stop holding an attempt (its lease went elsewhere): it stops, its records are refused."""
        with self.lock:
            self.reported.discard((run_id, attempt))
            if self.running.pop((run_id, attempt), None) is not None:
                self.cancelled.add((run_id, attempt))

    def stopping(self, run_id: str) -> bool:
        """Whether an abandoned attempt of this run is still winding down here."""
        with self.lock:
            return any(key[0] == run_id and key not in self.running for key in self.cancelled)

    def stopped(self, run_id: str, attempt: int) -> None:
        """An abandoned attempt has ended: forget its cancel mark."""
        with self.lock:
            if (run_id, attempt) not in self.running:
                self.cancelled.discard((run_id, attempt))


class _Call:
    """Something with `tell` that calls `fn`: lets a ForwardingFuture report to a plain function."""

    def __init__(self, fn: Callable[[Any], None]) -> None:
        self.tell = fn


class WorkerActor(SupervisedActor):
    """Admits claimed tasks into the local agent pools; one per worker process."""

    def __init__(self, state: WorkerState, layout: StreamLayout, transport: StreamTransport, bridge: Slot,
                 pools: dict[str, AgentPool], claim_ttl: float, wake: Callable[[], None] | None = None,
                 graphs: Any = None,
                 on_graph_done: Callable[[RunOutcome, int], None] | None = None,
                 slot: Slot | None = None, history: Any = None) -> None:
        super().__init__(slot)
        self.state = state
        self.layout = layout
        self.transport = transport
        self.bridge = bridge
        self.pools = pools
        self.claim_ttl = max(int(claim_ttl), 60)
        self.wake = wake
        self.graphs = graphs
        self.on_graph_done = on_graph_done
        self.history = history
        self._stopping = threading.Event()

    def on_stop(self) -> None:
        self._stopping.set()

    def receive(self, message: Any) -> None:
        if isinstance(message, Claimed):
            self._claimed(message)
        elif isinstance(message, Finished):
            self.state.finish(message.run_id, message.attempt)
            if self.wake is not None:
                self.wake()
        else:
            raise TypeError(f"WorkerActor cannot handle {type(message).__name__}")

    def _claimed(self, message: Claimed) -> None:
        tasks = []
        for entry in message.entries:
            if isinstance(entry.message, Task):
                tasks.append((entry, entry.message))
                continue
            self.state.unreserve()
            reason = entry.error or f"not a task: {type(entry.message).__name__}"
            self.bridge.tell(Send(tuple(dead_letter(self.layout.dlq, entry, WORKERS_GROUP, reason))))
        if message.redelivered:
            for entry, task in tasks:
                self.state.unreserve()
                self._send_result(TaskReleased(task.task_id, task.run_id, task.attempt, self.state.worker_id,
                                               entry.entry_id, "worker restarted while the task was in hand"))
            return
        for _, task in tasks:
            # NOTE: a later attempt of a run held here means this worker lost the earlier one's lease (it was
            # paused); the earlier one stops now, its records are refused, and the two never share a key.
            for stale in self.state.earlier(task.run_id, task.attempt):
                logger.warning("run {} attempt {} is superseded by attempt {}; stopping it here", task.run_id,
                               stale.task.attempt, task.attempt)
                self.state.abandon(task.run_id, stale.task.attempt)
        # NOTE: a graph run executes once per process (its run table is keyed by run); the new attempt goes back
        # for a retry while a superseded one winds down here. An agent run's attempts are kept apart.
        stopping = [(entry, task) for entry, task in tasks if task.mode == "graph" and self.state.stopping(task.run_id)]
        for entry, task in stopping:
            self.state.unreserve()
            self._send_result(TaskReleased(task.task_id, task.run_id, task.attempt, self.state.worker_id,
                                           entry.entry_id, "an earlier attempt is still stopping on this worker"))
        tasks = [pair for pair in tasks if pair not in stopping]
        checks = self._check(tasks)
        for (entry, task), (claimed, cancelled) in zip(tasks, checks):
            if not claimed:
                logger.info("task {} attempt {} is already claimed; acking duplicate entry", task.task_id, task.attempt)
                self.state.unreserve()
                self.bridge.tell(Send((("xack", self.layout.tasks, WORKERS_GROUP, entry.entry_id),)))
            elif cancelled:
                self.state.unreserve()
                self._end_unstarted(entry, task, "cancelled", None)
            elif task.mode == "graph" and self.graphs is not None:
                self._start_graph(entry, task)
            elif task.mode != "run" or task.agent not in self.pools:
                self.state.unreserve()
                reason = (f"unknown agent {task.agent!r} on worker {self.state.worker_id}" if task.mode == "run"
                          else f"mode {task.mode!r} is not supported by this worker")
                self._end_unstarted(entry, task, "failed", reason)
            else:
                self._start(entry, task)

    def _check(self, tasks: list[tuple[Entry, Task]]) -> list[tuple[bool, bool]]:
        """Claim each task once and see whether it was cancelled, in one round trip."""
        if not tasks:
            return []
        pairs = tuple((self.layout.claim_key(task.task_id, task.attempt), self.layout.cancel_key(task.run_id))
                      for _, task in tasks)
        op = ("claim", self.state.worker_id, self.claim_ttl, pairs)
        [replies] = until_reachable(lambda: self.transport.apply([op], atomic=False), "claiming tasks")
        return [(bool(replies[i]), bool(replies[i + 1])) for i in range(0, len(replies), 2)]

    def _start(self, entry: Entry, task: Task) -> None:
        self.state.start(InFlight(task, entry.entry_id))
        request = RunAgent(task.run_id, task.session_id, task.input, task.agent, task.history, task.attempt,
                           task.first_seq, {**task.metadata, "worker_id": self.state.worker_id,
                                            "task_id": task.task_id})
        self.pools[task.agent].dispatch(StartRun(request, Reply()))

    def _start_graph(self, entry: Entry, task: Task) -> None:
        """Run a graph task from the checkpoint it carries (or from the start): finished nodes never rerun."""
        try:
            self.graphs.graph(task.workflow)
        except AgentstageError as exc:
            self.state.unreserve()
            self._end_unstarted(entry, task, "failed", str(exc))
            return
        self.state.start(InFlight(task, entry.entry_id))
        if self.history is not None:
            self.history.note(task.children)
        worker_id = self.state.worker_id
        placed = {"attempt": task.attempt, "worker_id": worker_id}
        try:
            done = ForwardingFuture(_Call(lambda outcome: self._graph_done(task, *outcome)),
                                    lambda value, error: (value, error))
            if task.checkpoint is None:
                # NOTE: a first attempt starts as an embedded run does: run.started (placing this attempt and
                # worker on the run row) and checkpoint 0 together, then the same events, numbered the same.
                self.graphs.start_from(task.workflow, task.run_id, task.session_id, task.input,
                                       first_seq=task.first_seq, metadata=task.metadata, opening_data=placed,
                                       reply=done, attempt=task.attempt)
                return
            checkpoint = task.checkpoint
            # NOTE: run.started puts this attempt and worker on the run row; the graph's own events follow it.
            started = Event(task.run_id, task.first_seq, "run.started", utc_now(), task.session_id, {
                "input": task.input, "kind": "graph", "workflow": task.workflow, "metadata": task.metadata,
                "step": checkpoint["step"], **placed})
            self._send_result(TaskRecords(task.task_id, task.run_id, task.attempt, worker_id, (started,)))
            opening = {"step": checkpoint["step"], "node": checkpoint["next_node"], "workflow": task.workflow, **placed}
            self.graphs.continue_from(task.workflow, task.run_id, task.session_id, checkpoint,
                                      first_seq=task.first_seq + 1, input=task.answer, opening_data=opening,
                                      reply=done, attempt=task.attempt)
        except AgentstageError as exc:
            self.state.finish(task.run_id, task.attempt)
            self._end_unstarted(entry, task, "failed", str(exc))
            return

    def _graph_done(self, task: Task, result: Any, error: BaseException | None) -> None:
        """The graph run's future settled (on the settling thread): report the outcome of this attempt."""
        run_id, attempt = task.run_id, task.attempt
        if self.history is not None:
            self.history.forget(task.children)
        if self.on_graph_done is None or self._stopping.is_set():
            return
        if error is not None or result is None:
            # NOTE: the graph actor reports failures as values; anything else ends the task, for good
            outcome = RunOutcome(run_id, "failed", None, f"{type(error).__name__}: {error}", type(error).__name__,
                                 ended_at=utc_now())
        else:
            outcome = RunOutcome(run_id, result.status, result.output, result.error, ended_at=utc_now())
        self.on_graph_done(outcome, attempt)

    def _end_unstarted(self, entry: Entry, task: Task, status: str, error: str | None) -> None:
        kind = "run.cancelled" if status == "cancelled" else "run.failed"
        event = Event(task.run_id, task.first_seq, kind, utc_now(), task.session_id,
                      {"reason": error or "cancelled before it started", "attempt": task.attempt,
                       "worker_id": self.state.worker_id}, error=error)
        outcome = RunOutcome(task.run_id, status, None, error, ended_at=event.ts)
        self._send_result(TaskDone(task.task_id, task.run_id, task.attempt, self.state.worker_id, entry.entry_id,
                                   outcome, (event,)))

    def _send_result(self, message: Any) -> None:
        self.bridge.tell(Send((("xadd", self.layout.results, to_wire(message), None),)))
