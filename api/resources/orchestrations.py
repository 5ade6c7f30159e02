"""Orchestrations: the patterns, and definitions stored as workflows of their name (`POST /runs` with
`workflow=<name>` runs one) in the workflow directory, where restarts, other API processes and workers load them."""

from __future__ import annotations

from typing import Any

import falcon.asgi
from marshmallow import ValidationError

from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump, load_body
from agentstage.api.schemas.common import OkSchema
from agentstage.api.schemas.orchestrations import (
    OrchestrationBodySchema,
    OrchestrationDetailSchema,
    PatternSchema,
    StoredOrchestrationSchema,
)
from agentstage.runtime.system.graph_runs import workflow_dir
from agentstage.runtime.workflow.orchestration_store import OrchestrationStore
from agentstage.runtime.workflow.orchestrations import (
    PATTERNS,
    OrchestrationError,
    build_orchestration,
    definition_errors,
    parse_orchestration,
)

__all__ = ["OrchestrationResource", "OrchestrationsResource", "PatternsResource"]

_CREATE = ("The definition is checked field by field (a 422 names each field: `agents[1]`, `routes.billing`), "
           "every agent it names must be one of this runtime's agents, and a taken workflow name is a 409 (names are "
           "never replaced). It is written to <AGENTSTAGE_WORKFLOW_DIR>/<name>.json and registered, so runs of "
           "workflow=<name> start at once here, and restarts, other API processes and workers sharing the directory "
           "load it.")


def _store(resource: Resource) -> OrchestrationStore:
    system = resource.backend.system
    return OrchestrationStore(workflow_dir(system.config), system.workflows, {spec.name for spec in system.agents()})


def _invalid(errors: dict[str, list[str]]) -> FieldError:
    problems = "; ".join(f"{path}: {message}" for path, messages in errors.items() for message in messages)
    return FieldError(422, title="Invalid orchestration", description=problems, errors=errors)


class PatternsResource(Resource):
    OPS = {"GET": Op("The orchestration patterns, each with its fields", "orchestrations", PatternSchema, many=True)}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, PatternSchema, [{"name": p.name, "description": p.description,
                                    "fields": [f.__dict__ for f in p.fields]} for p in PATTERNS.values()], many=True)


class OrchestrationsResource(Resource):
    OPS = {
        "GET": Op("Stored orchestrations with their definitions", "orchestrations", StoredOrchestrationSchema,
                  many=True),
        "POST": Op("Create an orchestration: a pattern over named agents, run as a workflow of its name",
                   "orchestrations", StoredOrchestrationSchema, status=201, body=OrchestrationBodySchema,
                   errors=(409, 422), description=_CREATE),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        stored = await self.backend.call(lambda: [s.to_dict() for s in _store(self).all()])
        dump(resp, StoredOrchestrationSchema, stored, many=True)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        try:
            body = await load_body(req, OrchestrationBodySchema)
        except ValidationError as exc:
            raise _invalid(definition_errors(exc.messages)) from None
        stored = await self.backend.call(self._create, body)
        await self.backend.commit(req, "orchestration.create", stored["name"], (),
                                  {"pattern": stored["pattern"], "file": stored["file"]})
        dump(resp, StoredOrchestrationSchema, stored, status=201)

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        store = _store(self)
        try:
            return store.add(parse_orchestration(body, store.agents)).to_dict()
        except OrchestrationError as exc:
            raise _invalid(exc.errors) from None


class OrchestrationResource(Resource):
    OPS = {
        "GET": Op("One stored orchestration: its definition and its graph as Mermaid", "orchestrations",
                  OrchestrationDetailSchema, errors=(404,)),
        "DELETE": Op("Remove an orchestration: its file and its workflow", "orchestrations", OkSchema,
                     errors=(404, 409), description="Refused (409) while runs of it are queued, running or waiting. "
                                                    "Other processes that loaded it keep it until they restart."),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        dump(resp, OrchestrationDetailSchema, await self.backend.call(self._describe, name))

    def _describe(self, name: str) -> dict[str, Any]:
        stored = _store(self).get(name)
        graph = build_orchestration(parse_orchestration(stored.definition)) if stored.valid else None
        return {**stored.to_dict(), "mermaid": graph.mermaid() if graph is not None else None}

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        removed = await self.backend.call(lambda: _store(self).remove(name, self.backend.reader()))
        await self.backend.commit(req, "orchestration.delete", name, (), {"file": removed.file})
        dump(resp, OkSchema, {"ok": True})
