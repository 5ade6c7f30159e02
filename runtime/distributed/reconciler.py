"""When reconciliation runs: at the coordinator's start, after Redis restarts, and periodically.

The coordinator side (`Reconciler`) runs a pass of `reconcile` at start, whenever its readers
come back from an outage to a Redis instance with another id (a restart, which may have lost
data), and every `reconcile_interval` seconds. Before a pass it lets the coordinator apply the
Redis side of every batch it already committed, so a task still being published is not taken
for lost. The worker side (`wait_until_reconciled`) holds a worker's task reader back while
Redis is an instance the coordinator has not reconciled yet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from agentstage.actors.coordination import Batch
from agentstage.runtime._log import logger
from agentstage.runtime.clock import utc_ago
from agentstage.runtime.distributed.reconcile import reconcile
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.streams import StreamLayout
from agentstage.runtime.transport import UNAVAILABLE, Refused, StreamTransport

__all__ = ["Reconciler", "wait_until_reconciled"]

RESTORE_HORIZON = 24 * 3600.0
"""Seconds back whose journal entries and done keys a pass after a restart writes back into Redis."""

_SETTLE = 10.0
"""Seconds a run must be unchanged before a pass beside a live coordinator takes it for lost."""

_FLUSH_WAIT = 30.0


class Reconciler:
    """Runs reconciliation passes for one coordinator; `submit` hands a batch to the coordinator actor."""

    def __init__(self, transport: StreamTransport, layout: StreamLayout, reader: Callable[[], SQLiteReader],
                 submit: Callable[[Batch], None], *, interval: float, lease: float, max_bytes: int | None,
                 retention: int | None = None) -> None:
        self.transport = transport
        self.layout = layout
        self.reader = reader
        self.submit = submit
        self.interval = interval
        self.lease = lease
        self.max_bytes = max_bytes
        self.retention = retention
        self.server: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def at_start(self) -> None:
        """The first pass, before the coordinator reads any stream: nothing else writes yet."""
        self._pass(settle=None, restore=True, flush=False)

    def after_outage(self) -> None:
        """A reader reconnected: reconcile once if Redis is another instance than the last one reconciled."""
        with self._lock:
            if self.transport.server_id() != self.server:
                logger.warning("Redis restarted (a new instance); reconciling it with the store")
                self._pass(settle=_SETTLE, restore=True, flush=True)

    def start(self) -> Reconciler:
        self._thread = threading.Thread(target=self._periodic, name="coordinator-reconcile", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _periodic(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self._lock:
                    restarted = self.transport.server_id() != self.server
                    self._pass(settle=max(_SETTLE, self.interval), restore=restarted, flush=True)
            except (*UNAVAILABLE, Refused) as exc:
                logger.warning("reconciliation skipped: Redis unavailable ({})", exc)
            except Exception as exc:  # NOTE: a failed pass is retried at the next interval, never kills the thread
                logger.opt(exception=exc).error("reconciliation pass failed")

    def _pass(self, *, settle: float | None, restore: bool, flush: bool) -> None:
        if flush and not self._flushed():
            logger.warning("reconciliation postponed: the coordinator has not applied its earlier batches")
            return
        server = self.transport.server_id()
        found = reconcile(self.reader(), self.transport, self.layout, self.max_bytes, settle=settle, lease=self.lease,
                          restore_since=utc_ago(RESTORE_HORIZON) if restore else None, retention=self.retention,
                          server_id=server)
        if found.found:
            logger.warning("reconciled Redis with the store: {}", found.summary())
        self.submit(found.batch)
        self.server = server

    def _flushed(self) -> bool:
        """Wait until the coordinator has applied the Redis ops of every batch submitted before this call."""
        done = threading.Event()
        self.submit(Batch(after=[done.set]))
        return done.wait(_FLUSH_WAIT)


def wait_until_reconciled(transport: StreamTransport, layout: StreamLayout, stop: threading.Event) -> None:
    """Return once the coordinator has reconciled the running Redis instance (or never marked any), or on `stop`."""
    said = 0.0
    while not stop.is_set():
        mark = transport.get(layout.reconciled)
        if mark is None or mark.decode() == transport.server_id():
            return
        if time.monotonic() - said > 10.0:
            logger.info("waiting for the coordinator to reconcile the restarted Redis before taking tasks")
            said = time.monotonic()
        stop.wait(0.2)
