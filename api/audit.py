"""Audit of what the resources did not audit themselves: denials and refused mutations.

Successful mutations write their audit row in the same transaction as the change
(`Backend.commit`). This middleware adds a row for every 401/403 on a routed request and
for every mutation that ended in an error, so nothing an operator tried goes unrecorded.
Rows carry no secrets: no request bodies, no keys. What a caller can make it write is bounded:
targets are cut to `TARGET_LIMIT` characters, and each client address gets `BURST` rows per
`WINDOW` seconds; past that its rows are counted, and one `audit.suppressed` row per window
records how many were left out, so a flood stays visible without filling the disk.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

import falcon.asgi
from loguru import logger

from agentstage.api.backend import Backend
from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.state import AuditEntry

__all__ = ["AuditMiddleware", "SourceLimiter"]

_MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TARGET_LIMIT = 200
BURST = 20
WINDOW = 60.0
SOURCES = 10_000


class SourceLimiter:
    """Admits `burst` rows per source per `window` seconds and counts the rest, for at most `sources` sources."""

    def __init__(self, burst: int = BURST, window: float = WINDOW, sources: int = SOURCES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.window = window
        self.sources = sources
        self.clock = clock
        self._windows: OrderedDict[str, list] = OrderedDict()

    def admit(self, source: str) -> tuple[bool, list[tuple[str, int]]]:
        """Whether a row from `source` is written now, and (source, count) of rows left out in ended windows."""
        now = self.clock()
        ended: list[tuple[str, int]] = []
        while self._windows:
            first, (started, _, left_out) = next(iter(self._windows.items()))
            if now - started < self.window:
                break
            self._windows.popitem(last=False)
            if left_out:
                ended.append((first, left_out))
        window = self._windows.get(source)
        if window is None:
            if len(self._windows) >= self.sources:
                first, (_, _, left_out) = self._windows.popitem(last=False)
                if left_out:
                    ended.append((first, left_out))
            window = self._windows[source] = [now, 0, 0]
        if window[1] < self.burst:
            window[1] += 1
            return True, ended
        window[2] += 1
        return False, ended


class AuditMiddleware:
    """Writes audit rows for denied requests and failed mutations (`process_response`), bounded per client."""

    def __init__(self, backend: Backend, limiter: SourceLimiter | None = None) -> None:
        self.backend = backend
        self.limiter = limiter or SourceLimiter()

    async def process_response(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: object,
                               req_succeeded: bool) -> None:
        if resource is None or getattr(req.context, "audited", False):
            return
        status = resp.status_code
        target = f"{req.method} {req.path}"
        if len(target) > TARGET_LIMIT:
            target = target[:TARGET_LIMIT] + "..."
        if status in (400, 401, 403) and hasattr(req.context, "deny_reason"):
            outcome, detail = "denied", {"status": status, "reason": req.context.deny_reason}
        elif req.method in _MUTATIONS and status >= 400:
            outcome, detail = "rejected", {"status": status}
        else:
            return
        admitted, ended = self.limiter.admit(req.remote_addr or "")
        entries = [_suppressed(source, count, self.limiter.window) for source, count in ended]
        if admitted:
            entries.append(self.backend.audit_entry(
                req, "access.denied" if outcome == "denied" else "request.rejected", target, outcome, detail))
        if not entries:
            return
        try:
            self.backend.record_async(entries)
        except RuntimeError:
            logger.warning("{} audit rows not written, the runtime is stopped", len(entries))


def _suppressed(source: str, count: int, window: float) -> AuditEntry:
    return AuditEntry(id=new_id(), ts=utc_now(), action="audit.suppressed", outcome="denied", key_id=None, role=None,
                      target="denied and rejected requests", request_id="", client=source,
                      detail={"count": count, "window_seconds": window})
