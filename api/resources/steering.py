"""Steering a run: cancel, requeue, resume (a waiting graph run's answer) and fork, the same in every mode.

Each responder goes through the backend's run control: the embedded System in local mode, the
coordinator in queued mode. The control checks the request first; its audit row is durable
before the request is carried out.
"""

from __future__ import annotations

import falcon.asgi

from agentstage.api.resources.base import Op, Resource, dump, load_body
from agentstage.api.schemas.runs import RunStartedSchema
from agentstage.api.schemas.runtime import CancelSchema, RuntimeActionSchema
from agentstage.api.schemas.workflows import ForkSchema, ResumeSchema

__all__ = ["CancelResource", "RequeueResource", "RunForkResource", "RunResumeResource"]

_STEER_ERRORS = (404, 409, 422, 503)


class CancelResource(Resource):
    OPS = {"POST": Op("Cancel a run (a queued or waiting one at once, a running one at its next step)", "runtime",
                      RuntimeActionSchema, status=202, body=CancelSchema, errors=(404, 409, 503))}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        body = await load_body(req, CancelSchema) if req.content_length else {"reason": ""}
        audit = self.backend.auditor(req, "runtime.run.cancel", run_id, {"reason": body["reason"]})
        steered = await self.backend.call(self.backend.control.cancel, run_id, body["reason"], before=audit)
        dump(resp, RuntimeActionSchema, steered, status=202)


class RequeueResource(Resource):
    OPS = {"POST": Op("Run a failed or cancelled run again, as a new attempt", "runtime", RuntimeActionSchema,
                      status=202, errors=(404, 409, 503))}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        audit = self.backend.auditor(req, "runtime.run.requeue", run_id)
        steered = await self.backend.call(self.backend.control.requeue, run_id, before=audit)
        dump(resp, RuntimeActionSchema, steered, status=202)


class RunResumeResource(Resource):
    OPS = {"POST": Op("Resume a graph run from its latest checkpoint (with input when it waits for some)", "runs",
                      RunStartedSchema, status=202, body=ResumeSchema, errors=_STEER_ERRORS,
                      description="A waiting run takes `input` as its human node's answer; a failed run resumes "
                                  "without. In queued mode a worker continues it.")}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        body = await load_body(req, ResumeSchema) if req.content_length else {"input": None}
        audit = self.backend.auditor(req, "run.resume", run_id, {"with_input": body["input"] is not None})
        started = await self.backend.call(self.backend.control.resume, run_id, body["input"], before=audit)
        dump(resp, RunStartedSchema, started, status=202)


class RunForkResource(Resource):
    OPS = {"POST": Op("Start a new graph run from one checkpoint of another, optionally with a state patch", "runs",
                      RunStartedSchema, status=202, body=ForkSchema, errors=_STEER_ERRORS)}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        body = await load_body(req, ForkSchema)
        audit = self.backend.auditor(req, "run.fork", run_id, {"step": body["step"],
                                                               "patched_keys": sorted(body["state_patch"])})
        started = await self.backend.call(self.backend.control.fork, run_id, body["step"], body["state_patch"],
                                          before=audit)
        dump(resp, RunStartedSchema, started, status=202)
