"""Audit of what the resources did not audit themselves: denials and refused mutations.

Successful mutations write their audit row in the same transaction as the change
(`Backend.commit`). This middleware adds a row for every 401/403 on a routed request and
for every mutation that ended in an error, so nothing an operator tried goes unrecorded.
Rows carry no secrets: no request bodies, no keys.
"""

from __future__ import annotations

import falcon.asgi
from loguru import logger

from agentstage.api.backend import Backend

__all__ = ["AuditMiddleware"]

_MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuditMiddleware:
    """Writes audit rows for denied requests and failed mutations (`process_response`)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def process_response(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: object,
                               req_succeeded: bool) -> None:
        if resource is None or getattr(req.context, "audited", False):
            return
        status = resp.status_code
        target = f"{req.method} {req.path}"
        if status in (400, 401, 403) and hasattr(req.context, "deny_reason"):
            outcome, detail = "denied", {"status": status, "reason": req.context.deny_reason}
        elif req.method in _MUTATIONS and status >= 400:
            outcome, detail = "rejected", {"status": status}
        else:
            return
        entry = self.backend.audit_entry(req, "access.denied" if outcome == "denied" else "request.rejected",
                                         target, outcome, detail)
        try:
            self.backend.record_async([entry])
        except RuntimeError:
            logger.warning("audit row not written, the runtime is stopped: {} {}", entry.action, target)
