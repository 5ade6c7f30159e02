"""Prompts at the reference DevUI's paths: `/prompts` (list, save), `/prompts/{ref}` (read, delete),
`/prompts/render` and `/prompts/validate`."""

from __future__ import annotations

from typing import Any

import falcon.asgi

from agentstage.api.resources.base import Op, Resource, dump, load_body
from agentstage.api.schemas.prompts import (
    PromptBodySchema,
    PromptListSchema,
    PromptRemovedSchema,
    PromptRenderSchema,
    PromptSavedSchema,
    PromptSchema,
    RenderedSchema,
    ValidatedSchema,
)
from agentstage.runtime.errors import InvalidArgument
from agentstage.runtime.prompts import PromptRegistry, PromptSpec

__all__ = ["PromptRenderResource", "PromptResource", "PromptValidateResource", "PromptsResource"]

_SPEC_KEYS = ("name", "version", "system", "description", "tags", "inputSchema", "metadata")


def _spec(body: dict[str, Any]) -> PromptSpec:
    return PromptSpec.from_dict(body.get("spec") or {k: body[k] for k in _SPEC_KEYS if k in body})


class _PromptResource(Resource):
    @property
    def prompts(self) -> PromptRegistry:
        return self.backend.system.prompts


class PromptsResource(_PromptResource):
    OPS = {
        "GET": Op("Prompt versions, by name then version", "prompts", PromptListSchema),
        "POST": Op("Save a prompt version (name@version; a saved version is replaced)", "prompts", PromptSavedSchema,
                   status=201, body=PromptBodySchema, errors=(409, 422)),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        specs = await self.backend.call(self.prompts.all)
        dump(resp, PromptListSchema, {"count": len(specs), "prompts": [s.to_dict() for s in specs]})

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        spec = _spec(await load_body(req, PromptBodySchema))
        await self.backend.call(self.prompts.upsert, spec)
        await self.backend.commit(req, "prompt.upsert", spec.ref, (), {"variables": spec.variables})
        dump(resp, PromptSavedSchema, {"ok": True, "prompt": spec.to_dict()}, status=201)


class PromptResource(_PromptResource):
    OPS = {
        "GET": Op("One prompt (name alone: its greatest version)", "prompts", PromptSchema, errors=(404, 422)),
        "DELETE": Op("Remove a prompt version (name alone: every version)", "prompts", PromptRemovedSchema,
                     errors=(404, 409, 422)),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, ref: str) -> None:
        dump(resp, PromptSchema, (await self.backend.call(self.prompts.get, ref)).to_dict())

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, ref: str) -> None:
        removed = await self.backend.call(self.prompts.delete, ref)
        await self.backend.commit(req, "prompt.delete", ref, (), {"removed": removed})
        dump(resp, PromptRemovedSchema, {"ok": True, "removed": removed})


class PromptRenderResource(_PromptResource):
    OPS = {"POST": Op("Render a prompt with its {{variables}} filled (every missing one is named)", "prompts",
                      RenderedSchema, body=PromptRenderSchema, errors=(404, 422),
                      description="`{ref, input}` renders a stored prompt; `{name, version, system, input}` "
                                  "renders the spec given inline.")}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await load_body(req, PromptRenderSchema)
        if "ref" in body:
            spec = await self.backend.call(self.prompts.get, body["ref"])
        elif "system" in body:
            spec = _spec(body)
        else:
            raise InvalidArgument("ref", "give a stored prompt's ref, or a spec with its system text")
        dump(resp, RenderedSchema, {"ref": spec.ref, "rendered": spec.render(body["input"])})


class PromptValidateResource(_PromptResource):
    OPS = {"POST": Op("Check a prompt spec without saving it", "prompts", ValidatedSchema, body=PromptBodySchema,
                      errors=(422,))}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, ValidatedSchema, {"valid": True, "spec": _spec(await load_body(req, PromptBodySchema)).to_dict()})
