"""The dead-letter queue: list, purge, requeue or delete an entry (409 where runs are not queued)."""

from __future__ import annotations

import falcon.asgi

from agentstage.api.resources.base import Op, Resource, dump, load_query
from agentstage.api.schemas.common import OkSchema
from agentstage.api.schemas.runtime import (
    DlqEntryDetailSchema,
    DlqEntrySchema,
    DlqQuery,
    PurgedSchema,
    RuntimeActionSchema,
)

__all__ = ["DlqEntryResource", "DlqRequeueResource", "DlqResource"]


class DlqResource(Resource):
    OPS = {"GET": Op("Dead-lettered tasks, newest first", "runtime", DlqEntrySchema, many=True, query=DlqQuery,
                     errors=(409, 422, 503)),
           "DELETE": Op("Purge every dead-lettered task (their runs are not requeued)", "runtime", PurgedSchema,
                        errors=(409, 503))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        query = load_query(req, DlqQuery)
        dump(resp, DlqEntrySchema, await self.backend.call(self.backend.control.dlq_list, query["limit"],
                                                           query["run_id"]), many=True)

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await self.backend.commit(req, "runtime.dlq.purge", "dlq")
        dump(resp, PurgedSchema, {"purged": await self.backend.call(self.backend.control.dlq_purge)})


class DlqRequeueResource(Resource):
    OPS = {"POST": Op("Requeue the run of a dead-lettered task (the entry goes once it is requeued)", "runtime",
                      RuntimeActionSchema, status=202, errors=(404, 409, 503))}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, dlq_id: str) -> None:
        control = self.backend.control
        entry = await self.backend.call(control.dlq_show, dlq_id)
        audit = self.backend.auditor(req, "runtime.dlq.requeue", dlq_id, {"run_id": entry["run_id"]})
        dump(resp, RuntimeActionSchema, await self.backend.call(control.dlq_requeue, dlq_id, before=audit),
             status=202)


class DlqEntryResource(Resource):
    OPS = {"GET": Op("One dead-lettered task with its queued message (secrets redacted)", "runtime",
                     DlqEntryDetailSchema, errors=(404, 409, 503)),
           "DELETE": Op("Delete one dead-lettered task (its run is not requeued)", "runtime", OkSchema,
                        errors=(404, 409, 503))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, dlq_id: str) -> None:
        dump(resp, DlqEntryDetailSchema, await self.backend.call(self.backend.control.dlq_show, dlq_id))

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, dlq_id: str) -> None:
        control = self.backend.control
        entry = await self.backend.call(control.dlq_show, dlq_id)
        await self.backend.commit(req, "runtime.dlq.delete", dlq_id, detail={"run_id": entry["run_id"],
                                                                              "reason": entry["reason"]})
        await self.backend.call(control.dlq_delete, dlq_id)
        dump(resp, OkSchema, {"ok": True})
