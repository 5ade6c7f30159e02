"""Operations on a running distributed runtime: enqueue, wait, workers, queues, DLQ, cancel, requeue, resume, fork.

Used by the CLI verbs and the HTTP API alike. Only Redis is needed; what needs the coordinator's
SQLite file (recording, requeue) is sent to the coordinator as a control message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from agentstage.actors.heartbeat import read_workers, unserved_reason
from agentstage.runtime.wire import (
    Cancel,
    Enqueue,
    Fork,
    Message,
    Requeue,
    RequeueAnswer,
    Resume,
    RunOutcome,
    SteerAnswer,
    Task,
    from_wire,
    to_wire,
)
from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.config import Config
from agentstage.runtime.errors import DecodeError, NoCoordinator, NotFound, Refused, RunAborted, StoreError
from agentstage.runtime.streams import (
    CONTROL_MAXLEN,
    COORDINATOR_GROUP,
    KEY_TTL,
    WORKERS_GROUP,
    StreamLayout,
    decode_fields,
)
from agentstage.runtime.transport import UNAVAILABLE, RedisTransport, StreamTransport
from agentstage.runtime.transport import Refused as ServerRefused

__all__ = ["RuntimeOps"]

_MODES = ("run", "graph")
_SCAN = 1000


_DLQ_PAGE = 1000
_BATCH = 1000
"""Admissions per script of `enqueue_many`, so that no one command carries an unbounded argument list."""
MAX_BATCH = 10_000
"""Runs per `enqueue_many` call: the whole batch is one MULTI/EXEC, during which Redis serves no one else."""


def _admission(text: str, mode: str, agent: str, workflow: str, session: str | None,
               metadata: dict[str, Any] | None, run_id: str | None) -> Enqueue:
    """The Enqueue for one run, checked: RunAborted for empty input, ValueError for a bad mode."""
    if not isinstance(text, str) or not text.strip():
        raise RunAborted("the input is empty")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {', '.join(_MODES)}")
    if mode == "graph" and not workflow:
        raise ValueError("a graph run needs a workflow name")
    return Enqueue(run_id or new_id(), session or new_id(), text, mode, agent, workflow, dict(metadata or {}),
                   utc_now(), continue_session=session is not None)


class RuntimeOps:
    """A client of one deployment (`config.redis_url`, or `transport` when given, and `config.stream_prefix`);
    raises StoreError when the stream server cannot be reached."""

    def __init__(self, config: Config, transport: StreamTransport | None = None) -> None:
        self.config = config
        self.layout = StreamLayout(config.stream_prefix)
        self._owns_transport = transport is None
        if transport is None:
            try:
                transport = RedisTransport.from_url(config.redis_url)
            except ValueError as exc:
                raise StoreError(config.redis_url, f"bad Redis URL: {exc}") from None
        self.transport = transport

    @property
    def client(self) -> Any:
        """The Redis client underneath (a RedisTransport's), for checks the transport does not offer."""
        return getattr(self.transport, "client", None)

    def close(self) -> None:
        if self._owns_transport:
            self.transport.close()

    def __enter__(self) -> RuntimeOps:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UNAVAILABLE as exc:
            raise StoreError(self.config.redis_url, f"cannot reach Redis: {exc}") from None

    def enqueue(self, text: str, *, mode: str = "run", agent: str = "default", workflow: str = "",
                session: str | None = None, metadata: dict[str, Any] | None = None,
                run_id: str | None = None) -> dict[str, str]:
        """Admit a run (with id `run_id`, default a new one); returns its `run_id` and `session_id`.
        Raises RunAborted for empty input."""
        message = _admission(text, mode, agent, workflow, session, metadata, run_id)
        self._call(self.transport.append, self.layout.admit, to_wire(message))
        return {"run_id": message.run_id, "session_id": message.session_id}

    def enqueue_many(self, inputs: Sequence[str], *, mode: str = "run", agent: str = "default", workflow: str = "",
                     metadata: dict[str, Any] | None = None) -> list[dict[str, str]]:
        """Admit one run per input, each in a new session, all or none in one round trip; returns their ids in order.

        For a batch (an eval's cases, a backfill): one `enqueue` per run waits a round trip each. Raises
        RunAborted naming the first empty input, and ValueError past MAX_BATCH runs, before anything is sent.
        """
        if len(inputs) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} runs per enqueue_many call, not {len(inputs)}")
        messages = []
        for index, text in enumerate(inputs):
            try:
                messages.append(_admission(text, mode, agent, workflow, None, metadata, None))
            except RunAborted as exc:
                raise RunAborted(f"input {index}: {exc.reason}") from None
        payloads = [to_wire(message) for message in messages]
        ops = [("xadd_many", self.layout.admit, tuple(payloads[at:at + _BATCH]), None)
               for at in range(0, len(payloads), _BATCH)]
        if ops:
            self._call(self.transport.apply, ops)
        return [{"run_id": m.run_id, "session_id": m.session_id} for m in messages]

    def ended(self, run_id: str) -> RunOutcome | None:
        """How a run ended, or None while it has not."""
        raw = self._call(self.transport.get, self.layout.done_key(run_id))
        if raw is None:
            return None
        try:
            found = from_wire(raw, self.config.max_entry_bytes)
        except DecodeError:
            # NOTE: done keys live for KEY_TTL; those written before outcomes were wire messages are plain JSON.
            legacy = json.loads(raw)
            return RunOutcome(run_id, legacy["status"], legacy.get("output"), legacy.get("error"))
        if not isinstance(found, RunOutcome):
            raise StoreError(self.config.redis_url, f"done key of run {run_id} holds a {found.TYPE}, not an outcome")
        return found

    def outcome(self, run_id: str) -> dict[str, Any] | None:
        """How a run ended ({status, output, error}, see `RunOutcome.view`), or None while it has not."""
        ended = self.ended(run_id)
        return None if ended is None else ended.view()

    def wait(self, run_id: str, timeout: float, poll: float = 0.05) -> dict[str, Any] | None:
        """Wait up to `timeout` s for a run to end; returns `outcome` (None on timeout).

        On Redis it sleeps on the coordinator's `ended` channel and reads the done key when its run's
        id arrives (at least once a second, in case a notice was missed); other transports are read
        every `poll` s.
        """
        deadline = time.monotonic() + timeout
        client = self.client
        if client is None:
            while True:
                outcome = self.outcome(run_id)
                if outcome is not None or time.monotonic() >= deadline:
                    return outcome
                time.sleep(poll)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            self._call(pubsub.subscribe, self.layout.ended)
            while True:
                outcome = self.outcome(run_id)
                remaining = deadline - time.monotonic()
                if outcome is not None or remaining <= 0:
                    return outcome
                self._call(_await_notice, pubsub, run_id, min(remaining, 1.0))
        finally:
            pubsub.close()

    def cancel(self, run_id: str, reason: str = "") -> dict[str, Any]:
        """Ask for a run to stop (a graph run waiting for input too); raises NotFound when it already ended."""
        ended = self.outcome(run_id)
        if ended is not None and ended["status"] != "waiting":
            raise NotFound("active run", f"{run_id} (already {ended['status']})")
        message = Cancel(run_id, reason, utc_now())
        self._call(self.transport.apply, [("set", self.layout.cancel_key(run_id), reason or "cancelled", KEY_TTL),
                                          ("xadd", self.layout.control, to_wire(message), CONTROL_MAXLEN)])
        return {"run_id": run_id, "status": "cancelling"}

    def requeue(self, run_id: str, dlq_id: str = "", *, wait: float | None = None,
                poll: float = 0.05) -> dict[str, Any]:
        """Ask the coordinator to run a failed, cancelled or dead-lettered run again as a new attempt.

        With `wait`, return only once the coordinator has requeued it (the result carries the new
        `attempt`); raises Refused with the coordinator's reason when it refuses, NoCoordinator when no
        coordinator answers within `wait` seconds. Without, return once the request is sent.
        """
        token = new_id() if wait is not None else ""
        self._send(Requeue(run_id, dlq_id, utc_now(), token))
        result: dict[str, Any] = {"run_id": run_id, "status": "requeued", "dlq_id": dlq_id or None}
        if wait is None:
            return result
        answer = self._answer(token, wait, poll, f"the requeue of run {run_id}")
        if not isinstance(answer, RequeueAnswer) or not answer.requeued:
            reason = answer.reason if isinstance(answer, RequeueAnswer) else "unexpected answer"
            raise Refused(run_id, f"the coordinator refused: {reason}")
        return {**result, "attempt": answer.attempt}

    def resume(self, run_id: str, input: str | None = None, *, wait: float | None = None,
               poll: float = 0.05) -> dict[str, Any]:
        """Ask the coordinator to continue a waiting graph run with `input` (or a failed one without) on a worker.

        `wait` as in `requeue`; a refusal raises Refused with the coordinator's reason.
        """
        token = new_id() if wait is not None else ""
        self._send(Resume(run_id, input, utc_now(), token))
        if wait is not None:
            self._granted(self._answer(token, wait, poll, f"the resume of run {run_id}"), run_id)
        return {"run_id": run_id, "status": "resumed"}

    def fork(self, run_id: str, step: int, state_patch: dict[str, Any] | None = None, *,
             new_run_id: str | None = None, wait: float | None = None, poll: float = 0.05) -> dict[str, Any]:
        """Ask the coordinator to start a new graph run from checkpoint `step` of `run_id` (its state updated
        with `state_patch`); returns the new `run_id`. `wait` as in `resume`."""
        token = new_id() if wait is not None else ""
        fork_id = new_run_id or new_id()
        self._send(Fork(run_id, step, fork_id, dict(state_patch or {}), utc_now(), token))
        if wait is not None:
            self._granted(self._answer(token, wait, poll, f"the fork of run {run_id}"), run_id)
        return {"run_id": fork_id, "status": "forked"}

    def _send(self, message: Message) -> None:
        self._call(self.transport.append, self.layout.control, to_wire(message), maxlen=CONTROL_MAXLEN)

    def _answer(self, token: str, wait: float, poll: float, what: str) -> Message:
        """The coordinator's answer under reply key `token`; NoCoordinator when none comes within `wait` s."""
        deadline = time.monotonic() + wait
        key = self.layout.reply_key(token)
        while (raw := self._call(self.transport.get, key)) is None:
            if time.monotonic() >= deadline:
                raise NoCoordinator(self.config.redis_url, f"no coordinator answered {what} within {wait:g}s")
            time.sleep(poll)
        self._call(self.transport.delete, key)
        try:
            return from_wire(raw, self.config.max_entry_bytes)
        except DecodeError as exc:
            raise StoreError(self.config.redis_url, f"unreadable answer to {what}: {exc}") from None

    @staticmethod
    def _granted(answer: Message, run_id: str) -> None:
        if not isinstance(answer, SteerAnswer) or not answer.ok:
            reason = answer.reason if isinstance(answer, SteerAnswer) else "unexpected answer"
            raise Refused(run_id, f"the coordinator refused: {reason}")

    def workers(self, *, history: bool = False) -> list[dict[str, Any]]:
        """Live workers (running, draining, or lost a short while ago) with `alive` from their last heartbeat;
        with `history`, every worker that ever reported, stopped ones included."""
        return self._call(read_workers, self.transport, self.layout, history=history)

    def queues(self) -> list[dict[str, Any]]:
        """Per stream: length, pending, lag, oldest entry age; plus the DLQ and delayed-retry sizes."""
        rows = []
        for stream, group in ((self.layout.admit, COORDINATOR_GROUP), (self.layout.tasks, WORKERS_GROUP),
                              (self.layout.results, COORDINATOR_GROUP), (self.layout.control, COORDINATOR_GROUP)):
            rows.append(self._stream_row(stream, group))
        rows.append({"stream": self.layout.dlq, "kind": "dlq",
                     "length": self._call(self.transport.length, self.layout.dlq), "pending": 0, "lag": 0,
                     "oldest_age_s": self._oldest_age(self.layout.dlq)})
        rows.append({"stream": self.layout.delayed, "kind": "delayed",
                     "length": self._call(self.transport.cardinality, self.layout.delayed), "pending": 0, "lag": 0,
                     "oldest_age_s": None})
        return rows

    def unserved(self) -> list[dict[str, Any]]:
        """Runs waiting for a worker (undelivered or retrying) that no live worker serves: one row like a stream
        row of `queues`, kind `unserved`, per agent or workflow, with the reason and a `warning` line. Scans at
        most the first 1000 waiting tasks of each kind."""
        workers = self.workers()
        groups: dict[tuple[str, str, str], list[float]] = {}
        for task, age in self._waiting_tasks():
            reason = unserved_reason(workers, task.mode, task.agent, task.workflow)
            if reason is not None:
                kind = "workflow" if task.mode == "graph" else "agent"
                groups.setdefault((kind, task.workflow if kind == "workflow" else task.agent, reason), []).append(age)
        return [{"stream": self.layout.tasks, "kind": "unserved", "group": WORKERS_GROUP, "length": len(ages),
                 "pending": 0, "lag": len(ages), "oldest_age_s": round(max(ages), 3), kind: name, "reason": reason,
                 "warning": f"{len(ages)} runs of {kind} {name!r} wait: {reason}"}
                for (kind, name, reason), ages in sorted(groups.items())]

    def _waiting_tasks(self) -> list[tuple[Task, float]]:
        """Tasks no worker has read yet and tasks waiting for a retry, each with its age in seconds."""
        info = self._call(self.transport.group_info, self.layout.tasks, WORKERS_GROUP)
        start = "-" if info is None else "(" + info.last_delivered
        now = time.time()
        found = []
        for entry_id, fields in self._call(self.transport.entries, self.layout.tasks, start, "+", count=_SCAN):
            age = now - int(entry_id.split("-")[0]) / 1000
            found.append((fields.get(b"m", b""), age))
        found += [(member, 0.0) for member in self._call(self.transport.members, self.layout.delayed, _SCAN)]
        tasks = []
        for payload, age in found:
            try:
                task = from_wire(payload, self.config.max_entry_bytes)
            except DecodeError:
                continue
            if isinstance(task, Task):
                tasks.append((task, age))
        return tasks

    def _stream_row(self, stream: str, group: str) -> dict[str, Any]:
        length = self._call(self.transport.length, stream)
        # NOTE: until its consumers first connect a group does not exist: everything is still to deliver.
        info = self._call(self.transport.group_info, stream, group)
        pending, lag = (0, length) if info is None else (info.pending, info.lag)
        return {"stream": stream, "kind": "stream", "group": group, "length": length, "pending": pending,
                "lag": lag, "oldest_age_s": self._oldest_age(stream) if pending or lag else None}

    def _oldest_age(self, stream: str) -> float | None:
        first = self._call(self.transport.entries, stream, count=1)
        if not first:
            return None
        entry_id = first[0][0]
        return round(time.time() - int(entry_id.split("-")[0]) / 1000, 3)

    def dlq_list(self, limit: int = 50, run_id: str | None = None) -> list[dict[str, Any]]:
        """Dead-lettered entries, newest first; with `run_id` only that run's (the DLQ is read a page at a time)."""
        if run_id is None:
            return [self._dlq_row(i, f) for i, f in self._call(self.transport.entries, self.layout.dlq, count=limit,
                                                                reverse=True)]
        found: list[dict[str, Any]] = []
        start = "+"
        while len(found) < limit and (page := self._call(self.transport.entries, self.layout.dlq, start,
                                                         count=_DLQ_PAGE, reverse=True)):
            found += [self._dlq_row(i, f) for i, f in page if f.get(b"run_id", b"").decode() == run_id]
            start = "(" + page[-1][0]
        return found[:limit]

    def dlq_show(self, dlq_id: str) -> dict[str, Any]:
        """One DLQ entry with its original payload; raises NotFound."""
        try:
            found = self._call(self.transport.entries, self.layout.dlq, dlq_id, dlq_id, count=1)
        except (ServerRefused, ValueError):
            raise NotFound("DLQ entry", dlq_id) from None
        if not found:
            raise NotFound("DLQ entry", dlq_id)
        return self._dlq_row(*found[0], payload=True)

    def dlq_requeue(self, dlq_id: str, *, wait: float | None = None) -> dict[str, Any]:
        """Requeue the run of a DLQ entry (the entry is removed once the coordinator requeued it); `wait` as
        in `requeue`."""
        entry = self.dlq_show(dlq_id)
        if not entry["run_id"]:
            raise ValueError(f"DLQ entry {dlq_id} is not a run's task ({entry['reason']}); it can only be purged")
        return self.requeue(entry["run_id"], dlq_id, wait=wait)

    def dlq_delete(self, dlq_id: str) -> None:
        """Delete one DLQ entry (its run is not requeued); raises NotFound."""
        self.dlq_show(dlq_id)
        self._call(self.transport.apply, [("xdel", self.layout.dlq, dlq_id)])

    def ping(self) -> None:
        """Raise StoreError unless the stream server answers."""
        self._call(self.transport.ping)

    def dlq_purge(self) -> int:
        """Delete every DLQ entry; returns how many there were."""
        return int(self._call(self.transport.apply, [("xlen", self.layout.dlq), ("del", self.layout.dlq)])[0])

    @staticmethod
    def _dlq_row(entry_id: str, fields: dict[bytes, bytes], payload: bool = False) -> dict[str, Any]:
        row = decode_fields(fields)
        body = row.pop("m", "")
        result = {"id": entry_id, "run_id": row.get("run_id", ""), "task_id": row.get("task_id", ""),
                  "stream": row.get("stream", ""), "entry_id": row.get("entry_id", ""),
                  "reason": row.get("reason", ""), "attempts": int(row.get("attempts") or 0),
                  "worker": row.get("worker", ""), "last_error": row.get("last_error", ""),
                  "ts": float(row.get("ts") or 0)}
        if payload:
            result["payload"] = body
        return result



def _await_notice(pubsub: Any, run_id: str, timeout: float) -> None:
    """Block until `run_id` is published on the subscribed channel or `timeout` s pass."""
    expected = run_id.encode()
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        notice = pubsub.get_message(timeout=remaining)
        if notice is not None and notice.get("data") == expected:
            return
