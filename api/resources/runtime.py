"""The runtime: its workers, queues and health in one, and a run's attempts (409 where runs are not queued)."""

from __future__ import annotations

import falcon.asgi

from agentstage.api.resources.base import Op, Resource, dump
from agentstage.api.schemas.admin import AttemptSchema
from agentstage.api.schemas.runtime import DetailsSchema, LiveWorkerSchema, QueueSchema
from agentstage.runtime.state.admin import AdminReader

__all__ = ["AttemptsResource", "DetailsResource", "QueuesResource", "WorkersResource"]


class WorkersResource(Resource):
    OPS = {"GET": Op("Workers with their last heartbeat and whether they are alive", "runtime", LiveWorkerSchema,
                     many=True, errors=(503,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, LiveWorkerSchema, await self.backend.call(self.backend.control.workers), many=True)


class QueuesResource(Resource):
    OPS = {"GET": Op("Length, pending, lag and oldest age of each stream; DLQ and delayed-retry sizes", "runtime",
                     QueueSchema, many=True, errors=(409, 503))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, QueueSchema, await self.backend.call(self.backend.control.queues), many=True)


class DetailsResource(Resource):
    OPS = {"GET": Op("Queues, workers and DLQ in one, healthy or degraded with the reasons", "runtime",
                     DetailsSchema, errors=(409, 503))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, DetailsSchema, await self.backend.call(self.backend.control.details))


class AttemptsResource(Resource):
    OPS = {"GET": Op("A run's attempts", "runtime", AttemptSchema, many=True, errors=(404,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        dump(resp, AttemptSchema, await self.backend.read(lambda reader: _attempts(reader, run_id)), many=True)


def _attempts(reader: AdminReader, run_id: str) -> list:
    attempts = reader.attempts(run_id)
    if not attempts:
        reader.get_run(run_id)
    return attempts
