"""Operations on the distributed runtime (Redis Streams): queues, DLQ, health, cancel, requeue.

Registered only when the app is given a `RuntimeOps` (`agentstage ui-api --distributed`).
"""

from __future__ import annotations

import falcon.asgi

from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump, load_body, load_query
from agentstage.api.schemas.runtime import (
    CancelSchema,
    DetailsSchema,
    DlqEntrySchema,
    DlqQuery,
    LiveWorkerSchema,
    PurgedSchema,
    QueueSchema,
    RuntimeActionSchema,
)
from agentstage.api.schemas.common import OkSchema
from agentstage.api.sse import TERMINAL_STATUSES
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.errors import NotFound, StoreError
from agentstage.runtime.streams import REDIS_DOWN

__all__ = ["CancelResource", "DetailsResource", "DlqEntryResource", "DlqRequeueResource", "DlqResource",
           "LiveWorkersResource", "QueuesResource", "RequeueResource"]

_DETAILS_DLQ = 20


class _OpsResource(Resource):
    def __init__(self, backend, ops: RuntimeOps) -> None:
        super().__init__(backend)
        self.ops = ops


class LiveWorkersResource(_OpsResource):
    OPS = {"GET": Op("Workers with their last heartbeat and whether they are alive", "runtime", LiveWorkerSchema,
                     many=True, errors=(503,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, LiveWorkerSchema, await self.backend.call(self.ops.workers), many=True)


class QueuesResource(_OpsResource):
    OPS = {"GET": Op("Length, pending, lag and oldest age of each stream; DLQ and delayed-retry sizes", "runtime",
                     QueueSchema, many=True, errors=(503,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, QueueSchema, await self.backend.call(self.ops.queues), many=True)


class DlqResource(_OpsResource):
    OPS = {"GET": Op("Dead-lettered tasks, newest first", "runtime", DlqEntrySchema, many=True, query=DlqQuery,
                     errors=(422, 503)),
           "DELETE": Op("Purge every dead-lettered task (their runs are not requeued)", "runtime", PurgedSchema,
                        errors=(503,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        limit = load_query(req, DlqQuery)["limit"]
        dump(resp, DlqEntrySchema, await self.backend.call(self.ops.dlq_list, limit), many=True)

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await self.backend.commit(req, "runtime.dlq.purge", "dlq")
        dump(resp, PurgedSchema, {"purged": await self.backend.call(self.ops.dlq_purge)})


class DetailsResource(_OpsResource):
    OPS = {"GET": Op("Queues, workers and DLQ in one, healthy or degraded with the reasons", "runtime",
                     DetailsSchema, errors=(503,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        queues, workers, dlq = await self.backend.call(
            lambda: (self.ops.queues(), self.ops.workers(), self.ops.dlq_list(_DETAILS_DLQ)))
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
        dump(resp, DetailsSchema, {"status": "degraded" if reasons else "healthy", "reasons": reasons,
                                   "queues": queues, "workers": workers, "worker_count": len(workers),
                                   "alive_workers": alive, "dlq": dlq, "dlq_count": dlq_count})


class CancelResource(_OpsResource):
    OPS = {"POST": Op("Cancel a run (a running one stops at its next step)", "runtime", RuntimeActionSchema,
                      status=202, body=CancelSchema, errors=(404, 409, 503))}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        body = await load_body(req, CancelSchema) if req.content_length else {"reason": ""}
        run = await self.backend.read(lambda reader: reader.get_run(run_id))
        if run.status in TERMINAL_STATUSES:
            raise FieldError(409, title="Conflict", description=f"run {run_id} already {run.status}")
        await self.backend.commit(req, "runtime.run.cancel", run_id, detail={"reason": body["reason"]})
        try:
            result = await self.backend.call(self.ops.cancel, run_id, body["reason"])
        except NotFound:
            raise FieldError(409, title="Conflict", description=f"run {run_id} has already ended") from None
        dump(resp, RuntimeActionSchema, result, status=202)


class RequeueResource(_OpsResource):
    OPS = {"POST": Op("Run a failed or cancelled run again, as a new attempt", "runtime", RuntimeActionSchema,
                      status=202, errors=(404, 409, 503))}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        run = await self.backend.read(lambda reader: reader.get_run(run_id))
        if run.status not in ("failed", "cancelled"):
            raise FieldError(409, title="Conflict", description=f"run {run_id} is {run.status}; only failed or "
                             "cancelled runs are requeued")
        await self.backend.commit(req, "runtime.run.requeue", run_id)
        dump(resp, RuntimeActionSchema, await self.backend.call(self.ops.requeue, run_id), status=202)


class DlqRequeueResource(_OpsResource):
    OPS = {"POST": Op("Requeue the run of a dead-lettered task (the entry goes once it is requeued)", "runtime",
                      RuntimeActionSchema, status=202, errors=(404, 409, 503))}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, dlq_id: str) -> None:
        entry = await self.backend.call(self.ops.dlq_show, dlq_id)
        if not entry["run_id"]:
            raise FieldError(409, title="Conflict", description=f"DLQ entry {dlq_id} is not a run's task "
                             f"({entry['reason']}); it can only be purged")
        await self.backend.commit(req, "runtime.dlq.requeue", dlq_id, detail={"run_id": entry["run_id"]})
        dump(resp, RuntimeActionSchema, await self.backend.call(self.ops.requeue, entry["run_id"], dlq_id),
             status=202)


class DlqEntryResource(_OpsResource):
    OPS = {"DELETE": Op("Delete one dead-lettered task (its run is not requeued)", "runtime", OkSchema,
                        errors=(404, 503))}

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, dlq_id: str) -> None:
        entry = await self.backend.call(self.ops.dlq_show, dlq_id)
        await self.backend.commit(req, "runtime.dlq.delete", dlq_id, detail={"run_id": entry["run_id"],
                                                                              "reason": entry["reason"]})
        await self.backend.call(self._delete, dlq_id)
        dump(resp, OkSchema, {"ok": True})

    def _delete(self, dlq_id: str) -> None:
        try:
            self.ops.client.xdel(self.ops.layout.dlq, dlq_id)
        except REDIS_DOWN as exc:
            raise StoreError(self.ops.config.redis_url, f"cannot reach Redis: {exc}") from None
