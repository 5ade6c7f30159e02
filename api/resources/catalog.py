"""Tools and integrations: registry, bundles, templates, tool instances, workflow bindings, credential refs.

Reads and writes go through the System's `ToolCatalog`; each mutation's audit row is written in
the same transaction as the catalog entry.
"""

from __future__ import annotations

import falcon.asgi

from agentstage.api.resources.base import Op, Resource, dump, load_body
from agentstage.api.schemas.catalog import (
    BindingSchema,
    BundleSchema,
    CatalogSchema,
    CredentialRefSchema,
    GuardrailsSchema,
    InstanceCreateSchema,
    InstanceSchema,
    InstanceUpdateSchema,
    ProviderSchema,
    RegistryToolSchema,
    TemplateSchema,
)
from agentstage.api.schemas.common import OkSchema
from agentstage.runtime.guardrails import catalog as guardrail_catalog

__all__ = ["BindingResource", "BundlesResource", "CatalogResource", "CredentialsResource", "GuardrailsResource",
           "InstanceResource", "InstancesResource", "ProvidersResource", "RegistryResource", "TemplatesResource"]


class _Listing(Resource):
    """GET of one catalog listing."""

    SCHEMA: type = RegistryToolSchema
    METHOD = "tool_registry"

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, self.SCHEMA, await self.backend.call(getattr(self.backend.system.catalog, self.METHOD)), many=True)


class RegistryResource(_Listing):
    OPS = {"GET": Op("Every tool agents can be given: built-in, custom and instances", "tools", RegistryToolSchema,
                     many=True)}


class BundlesResource(_Listing):
    OPS = {"GET": Op("Tool bundles (select them as @name)", "tools", BundleSchema, many=True)}
    SCHEMA, METHOD = BundleSchema, "bundles"


class CatalogResource(Resource):
    OPS = {"GET": Op("Bundles (as @name) and tools, in the reference DevUI's catalog shape", "tools", CatalogSchema)}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        catalog = self.backend.system.catalog

        def read() -> dict:
            bundles = [{**b, "name": f"@{b['name']}"} for b in catalog.bundles()]
            return {"bundles": bundles, "tools": catalog.tool_registry()}

        dump(resp, CatalogSchema, await self.backend.call(read))


class TemplatesResource(_Listing):
    OPS = {"GET": Op("Provider templates a tool instance is made from", "tools", TemplateSchema, many=True)}
    SCHEMA, METHOD = TemplateSchema, "templates"


class GuardrailsResource(Resource):
    OPS = {"GET": Op("Built-in guardrails an agent can be given (AGENTSTAGE_GUARDRAILS, AgentSpec.guardrails)",
                     "guardrails", GuardrailsSchema)}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        entries = guardrail_catalog()
        dump(resp, GuardrailsSchema, {"guardrails": entries, "count": len(entries)})


class ProvidersResource(_Listing):
    OPS = {"GET": Op("Integration providers and the credentials they need", "integrations", ProviderSchema,
                     many=True)}
    SCHEMA, METHOD = ProviderSchema, "providers"


class CredentialsResource(_Listing):
    OPS = {"GET": Op("Credential references in use and whether they resolve (never values)", "integrations",
                     CredentialRefSchema, many=True)}
    SCHEMA, METHOD = CredentialRefSchema, "credentials"


class InstancesResource(Resource):
    OPS = {
        "GET": Op("Configured tool instances", "tools", InstanceSchema, many=True),
        "POST": Op("Create a tool instance (credentials as references)", "tools", InstanceSchema, status=201,
                   body=InstanceCreateSchema, errors=(409, 422)),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, InstanceSchema, await self.backend.call(self.backend.system.catalog.instances), many=True)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await load_body(req, InstanceCreateSchema)
        audit = self.backend.audit_entry(req, "tool.instance.create", body["name"], "ok",
                                         {"template": body["template"]})
        created = await self.backend.call(self.backend.system.catalog.create_instance, body, audit)
        req.context.audited = True
        dump(resp, InstanceSchema, created, status=201)


class InstanceResource(Resource):
    OPS = {
        "PUT": Op("Replace a tool instance", "tools", InstanceSchema, body=InstanceUpdateSchema, errors=(404, 422)),
        "DELETE": Op("Delete a tool instance", "tools", OkSchema, errors=(404,)),
    }

    async def on_put(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        body = await load_body(req, InstanceUpdateSchema)
        audit = self.backend.audit_entry(req, "tool.instance.update", name, "ok", {"template": body["template"]})
        updated = await self.backend.call(self.backend.system.catalog.update_instance, name, body, audit)
        req.context.audited = True
        dump(resp, InstanceSchema, updated)

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        audit = self.backend.audit_entry(req, "tool.instance.delete", name, "ok")
        await self.backend.call(self.backend.system.catalog.delete_instance, name, audit)
        req.context.audited = True
        dump(resp, OkSchema, {"ok": True})


class BindingResource(Resource):
    OPS = {
        "PUT": Op("Bind a tool or @bundle to a workflow (its agents get it at run time)", "workflows", BindingSchema,
                  errors=(422,)),
        "DELETE": Op("Remove a workflow tool binding", "workflows", OkSchema, errors=(404,)),
    }

    async def on_put(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str, tool: str) -> None:
        audit = self.backend.audit_entry(req, "workflow.tool.bind", f"{name}/{tool}", "ok")
        binding = await self.backend.call(self.backend.system.catalog.bind, name, tool, audit)
        req.context.audited = True
        dump(resp, BindingSchema, binding)

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str, tool: str) -> None:
        audit = self.backend.audit_entry(req, "workflow.tool.unbind", f"{name}/{tool}", "ok")
        await self.backend.call(self.backend.system.catalog.unbind, name, tool, audit)
        req.context.audited = True
        dump(resp, OkSchema, {"ok": True})
