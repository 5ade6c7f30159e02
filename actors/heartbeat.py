"""WorkerMonitor: a worker's heartbeat thread — liveness, lease extension, cancel signals.

Every `interval` it re-claims the entries of its in-flight tasks (`XCLAIM ... JUSTID`, which
resets their idle time) so a healthy long run is never reclaimed, and reports a `Heartbeat`;
its row in the workers hash also says which agents and workflows it serves. Between beats it
follows the control stream (plain XREAD) for `Cancel`s of runs it holds. `read_workers` and
`unserved_reason` read those rows back (operations commands, the coordinator's admission).
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
import time
from typing import Any

from loguru import logger

from agentstage.runtime.wire import Cancel, Heartbeat, from_wire, to_wire
from agentstage.actors.worker import WorkerState
from agentstage.runtime.clock import parse_ts, utc_now
from agentstage.runtime.errors import DecodeError
from agentstage.runtime.streams import WORKERS_GROUP, StreamLayout
from agentstage.runtime.transport import UNAVAILABLE, ReconnectBackoff, StreamTransport

__all__ = ["LOST_VISIBLE_S", "WorkerMonitor", "read_workers", "unserved_reason"]

LOST_VISIBLE_S = 300.0
"""Seconds a worker that went silent stays on the live list as `lost` (its tasks are reclaimed long before)."""


def read_workers(transport: StreamTransport, layout: StreamLayout, *,
                 history: bool = False) -> list[dict[str, Any]]:
    """The workers in the heartbeat hash, with `alive`, `age_s` and `status` (`lost` when silent 3 intervals).

    The live list (default) leaves out stopped workers and those lost for over LOST_VISIBLE_S;
    `history` keeps every worker that ever reported. Raises transport errors as they come.
    """
    now = time.time()
    rows = []
    for value in transport.hash_values(layout.workers):
        row = _row(value)
        if row is None:
            continue
        age = now - parse_ts(row["last_seen"]).timestamp()
        row["age_s"] = round(age, 3)
        row["alive"] = row["status"] != "stopped" and age <= 3 * float(row.get("interval") or 5)
        if not row["alive"] and row["status"] != "stopped":
            row["status"] = "lost"
        live = row["alive"] or (row["status"] == "lost" and age <= LOST_VISIBLE_S)
        if live or history:
            rows.append(row)
    return sorted(rows, key=lambda r: r["worker_id"])


def _row(value: bytes) -> dict[str, Any] | None:
    """A workers-hash value as a row; None for one that is not a heartbeat."""
    try:
        heartbeat = from_wire(value)
    except DecodeError:
        # NOTE: rows written before heartbeats were wire messages are plain JSON (they are rewritten at each beat).
        try:
            legacy = json.loads(value)
        except ValueError:
            return None
        return legacy if isinstance(legacy, dict) and "last_seen" in legacy else None
    if not isinstance(heartbeat, Heartbeat):
        return None
    row = dataclasses.asdict(heartbeat)
    row["agents"], row["workflows"] = list(heartbeat.agents), list(heartbeat.workflows)
    return row


def unserved_reason(workers: list[dict[str, Any]], mode: str, agent: str, workflow: str) -> str | None:
    """Why no live worker in `workers` (rows of `read_workers`) would run such a task; None when one would.

    A live worker that does not say what it serves (an older version) is taken to serve everything.
    """
    live = [w for w in workers if w["alive"]]
    if not live:
        return "no worker is alive"
    kind, name, served = ("workflow", workflow, "workflows") if mode == "graph" else ("agent", agent, "agents")
    if any(served not in w or name in w[served] for w in live):
        return None
    return f"no live worker serves {kind} {name!r}"


class WorkerMonitor(threading.Thread):
    """Heartbeats, lease extension and cancel signals for one worker."""

    def __init__(self, transport: StreamTransport, layout: StreamLayout, state: WorkerState, interval: float,
                 agents: list[str] | None = None, workflows: list[str] | None = None) -> None:
        super().__init__(name=f"monitor-{state.worker_id}", daemon=True)
        self.agents, self.workflows = tuple(sorted(agents or ())), tuple(sorted(workflows or ()))
        self.transport = transport
        self.layout = layout
        self.state = state
        self.interval = max(interval, 0.05)
        self.started_at = utc_now()
        self.host = socket.gethostname()
        self._stop_event = threading.Event()
        self._control = ""

    def stop(self, status: str = "stopped") -> None:
        """Stop beating and leave a last heartbeat with `status`."""
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=5)
        try:
            self.beat(status)
        except UNAVAILABLE:
            pass

    def run(self) -> None:
        backoff = ReconnectBackoff()
        next_beat = 0.0
        while not self._stop_event.is_set():
            try:
                if not self._control:
                    self._control = self.transport.last_id(self.layout.control)
                now = time.monotonic()
                if now >= next_beat:
                    self.beat("draining" if self.state.draining else "running")
                    next_beat = now + self.interval
                block = max(int((next_beat - time.monotonic()) * 1000), 1)
                self._follow_control(min(block, 500))
                backoff.reset()
            except UNAVAILABLE as exc:
                logger.warning("worker monitor: stream server unavailable ({}); retrying", exc)
                backoff.wait(self._stop_event)

    def beat(self, status: str) -> None:
        """Extend the leases of in-flight tasks and publish one heartbeat."""
        flights = self.state.in_flight()
        if flights:
            kept_ids = self.transport.extend_leases(self.layout.tasks, WORKERS_GROUP, self.state.worker_id,
                                                    [f.entry_id for f in flights])
            for flight in flights:
                if flight.entry_id not in kept_ids and self.state.lost(flight):
                    logger.warning("lease of run {} attempt {} was lost; stopping it here", flight.task.run_id,
                                   flight.task.attempt)
                    self.state.abandon(flight.task.run_id, flight.task.attempt)
        now = utc_now()
        heartbeat = to_wire(Heartbeat(self.state.worker_id, self.host, os.getpid(), self.started_at, now,
                                      len(flights), self.state.concurrency, status, self.interval, self.agents,
                                      self.workflows))
        self.transport.apply([("hset", self.layout.workers, self.state.worker_id, heartbeat),
                              ("xadd", self.layout.results, heartbeat, None)])

    def _follow_control(self, block_ms: int) -> None:
        for _, entry_id, payload in self.transport.read({self.layout.control: self._control}, 100, block_ms):
            self._control = entry_id
            try:
                message = from_wire(payload or b"")
            except DecodeError:
                continue
            if isinstance(message, Cancel):
                self.state.cancel(message.run_id, message.attempt)
