"""Workflows: list them, show one with its Mermaid diagram; resume or fork a graph run."""

from __future__ import annotations

import falcon.asgi

from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump, load_body
from agentstage.api.schemas.runs import RunStartedSchema
from agentstage.api.schemas.workflows import ForkSchema, ResumeSchema, WorkflowSchema, WorkflowSummarySchema
from agentstage.runtime.errors import NotFound, RunError
from agentstage.runtime.graph.builder import GraphError

__all__ = ["RunForkResource", "RunResumeResource", "WorkflowResource", "WorkflowsResource"]


class WorkflowsResource(Resource):
    OPS = {"GET": Op("Workflows this runtime can run (and files that failed to load)", "workflows",
                     WorkflowSummarySchema, many=True)}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, WorkflowSummarySchema, await self.backend.call(self._rows), many=True)

    def _rows(self) -> list[dict]:
        registry = self.backend.system.workflows
        rows = []
        for name in registry.names():
            try:
                description = registry.get(name).description
                problems: list[str] = []
            except GraphError as exc:
                description, problems = "", exc.problems
            rows.append({"name": name, "valid": not problems, "description": description,
                         "source_file": registry.source_file(name), "problems": problems})
        for name, problems in sorted(registry.invalid.items()):
            if name not in registry:
                rows.append({"name": name, "valid": False, "description": "", "source_file": None,
                             "problems": list(problems)})
        return rows


class WorkflowResource(Resource):
    OPS = {"GET": Op("One workflow: nodes, edges and its Mermaid diagram", "workflows", WorkflowSchema,
                     errors=(404, 409))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        dump(resp, WorkflowSchema, await self.backend.call(self._describe, name))

    def _describe(self, name: str) -> dict:
        registry = self.backend.system.workflows
        try:
            graph = registry.get(name)
        except GraphError as exc:
            raise FieldError(409, title="Invalid workflow", description=str(exc),
                             errors={"workflow": exc.problems}) from None
        return {**graph.describe(), "mermaid": graph.mermaid(), "source_file": registry.source_file(name)}


class RunResumeResource(Resource):
    OPS = {"POST": Op("Resume a graph run from its latest checkpoint (with input when it waits for some)", "runs",
                      RunStartedSchema, status=202, body=ResumeSchema, errors=(404, 409, 422))}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        body = await load_body(req, ResumeSchema) if req.content_length else {"input": None}
        run = await self.backend.read(lambda reader: reader.get_run(run_id))
        if run.kind != "graph":
            raise FieldError(409, title="Conflict", description=f"run {run_id} is not a graph run")
        if run.status == "waiting" and body["input"] is None:
            raise FieldError(422, title="Invalid request", errors={"input": ["the run waits for input"]})
        if run.status == "failed" and body["input"] is not None:
            raise FieldError(422, title="Invalid request", errors={"input": ["the run is not waiting for input"]})
        if run.status not in ("waiting", "failed"):
            raise FieldError(409, title="Conflict", description=f"run {run_id} is {run.status}; only waiting or "
                             "failed graph runs are resumed")
        await self.backend.commit(req, "run.resume", run_id, detail={"with_input": body["input"] is not None})
        try:
            handle = await self.backend.call(self.backend.system.graphs.resume_async, run_id, input=body["input"])
        except (RunError, GraphError) as exc:
            raise FieldError(409, title="Conflict", description=str(exc)) from None
        dump(resp, RunStartedSchema, {"run_id": handle.run_id, "session_id": handle.session_id, "status": "resumed"},
             status=202)


class RunForkResource(Resource):
    OPS = {"POST": Op("Start a new graph run from one checkpoint of another, optionally with a state patch", "runs",
                      RunStartedSchema, status=202, body=ForkSchema, errors=(404, 409, 422))}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        body = await load_body(req, ForkSchema)
        run = await self.backend.read(lambda reader: reader.get_run(run_id))
        if run.kind != "graph":
            raise FieldError(409, title="Conflict", description=f"run {run_id} is not a graph run")
        try:
            await self.backend.read(lambda reader: reader.checkpoint(run_id, body["step"]))
        except NotFound:
            raise FieldError(422, title="Invalid request",
                             errors={"step": [f"run {run_id} has no checkpoint at step {body['step']}"]}) from None
        await self.backend.commit(req, "run.fork", run_id, detail={"step": body["step"],
                                                                   "patched_keys": sorted(body["state_patch"])})
        try:
            handle = await self.backend.call(self.backend.system.graphs.fork_async, run_id, body["step"],
                                             body["state_patch"])
        except (RunError, GraphError) as exc:
            raise FieldError(409, title="Conflict", description=str(exc)) from None
        dump(resp, RunStartedSchema, {"run_id": handle.run_id, "session_id": handle.session_id, "status": "forked"},
             status=202)
