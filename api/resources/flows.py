"""Named flows at the reference DevUI's paths: `/flows` (list, save), `/flows/{name}` (read, delete) and
`/flows/{name}/run` (a playground run of the flow; operators only, unlike the reference)."""

from __future__ import annotations

from typing import Any

import falcon.asgi

from agentstage.api.resources.base import Op, Resource, dump, load_body
from agentstage.api.resources.playground import run_and_wait
from agentstage.api.schemas.common import OkSchema
from agentstage.api.schemas.playground import (
    FlowBodySchema,
    FlowListSchema,
    FlowRunSchema,
    FlowSavedSchema,
    FlowSchema,
    PlaygroundResponseSchema,
)
from agentstage.runtime.errors import InvalidArgument, NotFound
from agentstage.runtime.flows import SINGLE_AGENT, Flow

__all__ = ["FlowResource", "FlowRunResource", "FlowsResource"]

_FIELDS = ("name", "description", "workflow", "tools", "skills", "systemPrompt", "inputExample", "inputSchema",
           "outputSchema")


def _flow(body: dict[str, Any]) -> Flow:
    return Flow.from_dict(body.get("flow") or {k: body[k] for k in _FIELDS if k in body})


class FlowsResource(Resource):
    OPS = {
        "GET": Op("Named flows (agent configurations)", "flows", FlowListSchema),
        "POST": Op("Save a flow (replacing one of its name); persist (default true) keeps it in AGENTSTAGE_FLOW_DIR",
                   "flows", FlowSavedSchema, status=201, body=FlowBodySchema, errors=(409, 422)),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        flows = await self.backend.call(self.backend.system.flows.all)
        dump(resp, FlowListSchema, {"flows": [f.to_dict() for f in flows], "count": len(flows)})

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await load_body(req, FlowBodySchema)
        flow = _flow(body)
        system = self.backend.system
        await self.backend.call(_check_references, system, flow)
        saved = await self.backend.call(lambda: system.flows.upsert(flow, persist=body["persist"]))
        await self.backend.commit(req, "flow.upsert", flow.name, (), {"persist": body["persist"]})
        dump(resp, FlowSavedSchema, {"ok": True, "flow": saved.to_dict(), "persisted": saved.persisted}, status=201)


def _check_references(system: Any, flow: Flow) -> None:
    """Refuse a flow naming a skill or workflow this runtime does not have (InvalidArgument names the field)."""
    for name in flow.skills:
        try:
            system.skills.get(name)
        except NotFound:
            raise InvalidArgument("skills", f"unknown skill {name!r}") from None
    if flow.workflow not in SINGLE_AGENT and flow.workflow not in system.workflows.names():
        raise InvalidArgument("workflow", f"unknown workflow {flow.workflow!r}")


class FlowResource(Resource):
    OPS = {
        "GET": Op("One flow", "flows", FlowSchema, errors=(404,)),
        "DELETE": Op("Remove a saved flow (and its file)", "flows", OkSchema, errors=(404, 409)),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        dump(resp, FlowSchema, (await self.backend.call(self.backend.system.flows.get, name)).to_dict())

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        await self.backend.call(self.backend.system.flows.delete, name)
        await self.backend.commit(req, "flow.delete", name)
        dump(resp, OkSchema, {"ok": True})


class FlowRunResource(Resource):
    OPS = {"POST": Op("Run a flow on an input (a playground run) and answer once it ended", "flows",
                      PlaygroundResponseSchema, body=FlowRunSchema, errors=(404, 409, 422))}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        body = await load_body(req, FlowRunSchema)
        await self.backend.call(self.backend.system.flows.get, name)
        request = {"input": body["input"], "flow": name, "sessionId": body["sessionId"], "replyTo": body["replyTo"],
                   "timeout": body["timeout"], "skills": [], "tools": [], "guardrails": [], "workflow": "",
                   "systemPrompt": "", "promptInput": {}}
        dump(resp, PlaygroundResponseSchema, await run_and_wait(self, req, request))
