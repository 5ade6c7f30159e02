"""What the resources talk to: the System facade and its run control, store readers on a bounded thread pool,
audited writes.

The API runs on one asyncio event loop; every call that blocks (a store read, a write that waits
until it is durable, a Redis operation) goes through `call`/`read`, which run it on a pool of
`api_threads` threads, so no connection or event stream ever holds a thread while it waits.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hmac
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import falcon

from agentstage.api.limits import StreamLimits
from agentstage.runtime import Config, System
from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.control import RunControl
from agentstage.runtime.state import AuditEntry
from agentstage.runtime.state.admin import AdminReader
from agentstage.runtime.state.records import Record

__all__ = ["Backend", "Principal"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key's id and role (`local` for the opt-in loopback admin)."""

    key_id: str
    role: str
    name: str = ""


class Backend:
    """The running System and the run control chosen for it (local or queued) plus what the API adds:
    a bounded pool for blocking calls with a reader per pool thread, audited writes, live streams."""

    def __init__(self, system: System, control: RunControl, config: Config | None = None) -> None:
        if not system.running:
            raise RuntimeError("create_app needs a started System")
        self.system = system
        self.control = control
        self.config = config if config is not None else system.config
        self.streams = StreamLimits(self.config.api_streams_per_key, self.config.api_streams_total)
        self._pool = ThreadPoolExecutor(max_workers=max(2, self.config.api_threads), thread_name_prefix="api")
        self._local = threading.local()
        self._readers: list[AdminReader] = []
        self._lock = threading.Lock()
        self.login_tokens: set[str] = set()
        self.key_lock = asyncio.Lock()

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` on the pool (with the caller's context variables); awaits its result."""
        context = contextvars.copy_context()
        bound = functools.partial(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, context.run, bound)

    async def read(self, fn: Callable[[AdminReader], T]) -> T:
        """`fn(reader)` on the pool, with that pool thread's read-only connection."""
        return await self.call(lambda: fn(self.reader()))

    def reader(self) -> AdminReader:
        """A read-only connection of the calling thread (opened on first use); call it on the pool only."""
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = AdminReader(self.system.config.state_path)
            self._local.reader = reader
            with self._lock:
                self._readers.append(reader)
        return reader

    def consume_login_token(self, token: str) -> bool:
        """Whether `token` is a valid one-time login token; a valid one is used up."""
        with self._lock:
            match = next((t for t in self.login_tokens if hmac.compare_digest(t.encode(), token.encode())), None)
            if match is not None:
                self.login_tokens.discard(match)
        return match is not None

    def close(self) -> None:
        """End live streams, wait for the pool's calls, and close the readers they opened."""
        self.streams.end_all()
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            readers, self._readers = self._readers, []
        for reader in readers:
            reader.close()

    def audit_entry(self, req: falcon.Request, action: str, target: str, outcome: str,
                    detail: dict[str, Any] | None = None) -> AuditEntry:
        """An audit row for this request (caller, request id, client address)."""
        principal: Principal | None = getattr(req.context, "principal", None)
        return AuditEntry(
            id=new_id(), ts=utc_now(), action=action, outcome=outcome,
            key_id=principal.key_id if principal else getattr(req.context, "key_id", None),
            role=principal.role if principal else None, target=target,
            request_id=getattr(req.context, "request_id", ""), client=req.remote_addr or "",
            detail=detail or {},
        )

    async def commit(self, req: falcon.Request, action: str, target: str, records: Iterable[Record] = (),
                     detail: dict[str, Any] | None = None) -> None:
        """Write a mutation's records and its audit row in one transaction; returns once durable."""
        entry = self.audit_entry(req, action, target, "ok", detail)
        await self.call(self.system.write, (*records, entry))
        req.context.audited = True

    def auditor(self, req: falcon.Request, action: str, target: str,
                detail: dict[str, Any] | None = None) -> Callable[[], None]:
        """A blocking call (for the pool) that makes this mutation's audit row durable: the `before` hook of
        the run control, so a request is audited once it passed its checks and before it is carried out."""
        def audit() -> None:
            self.system.write((self.audit_entry(req, action, target, "ok", detail),))
            req.context.audited = True

        return audit

    def record_async(self, records: Iterable[Record]) -> None:
        """Queue records for the store without waiting (denial audits, key last-used times)."""
        self.system.write(records, wait=False)
