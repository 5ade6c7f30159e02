"""The runtime's workers and a run's attempts."""

from __future__ import annotations

import falcon

from agentstage.api.resources.base import Op, Resource, dump
from agentstage.api.schemas.admin import AttemptSchema, WorkerSchema

__all__ = ["AttemptsResource", "WorkersResource"]


class WorkersResource(Resource):
    OPS = {"GET": Op("Workers that reported a heartbeat, by worker id", "runtime", WorkerSchema, many=True)}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        dump(resp, WorkerSchema, self.backend.reader().heartbeats(), many=True)


class AttemptsResource(Resource):
    OPS = {"GET": Op("A run's attempts", "runtime", AttemptSchema, many=True, errors=(404,))}

    def on_get(self, req: falcon.Request, resp: falcon.Response, run_id: str) -> None:
        reader = self.backend.reader()
        attempts = reader.attempts(run_id)
        if not attempts:
            reader.get_run(run_id)
        dump(resp, AttemptSchema, attempts, many=True)
