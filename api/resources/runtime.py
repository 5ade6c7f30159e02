"""The runtime's workers and a run's attempts."""

from __future__ import annotations

import falcon.asgi

from agentstage.api.resources.base import Op, Resource, dump
from agentstage.api.schemas.admin import AttemptSchema, WorkerSchema
from agentstage.runtime.state.admin import AdminReader

__all__ = ["AttemptsResource", "WorkersResource"]


class WorkersResource(Resource):
    OPS = {"GET": Op("Workers that reported a heartbeat, by worker id", "runtime", WorkerSchema, many=True)}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, WorkerSchema, await self.backend.read(lambda reader: reader.heartbeats()), many=True)


class AttemptsResource(Resource):
    OPS = {"GET": Op("A run's attempts", "runtime", AttemptSchema, many=True, errors=(404,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        dump(resp, AttemptSchema, await self.backend.read(lambda reader: _attempts(reader, run_id)), many=True)


def _attempts(reader: AdminReader, run_id: str) -> list:
    attempts = reader.attempts(run_id)
    if not attempts:
        reader.get_run(run_id)
    return attempts
