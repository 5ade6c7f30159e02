"""Workflows: list them, show one with its Mermaid diagram, and the reference DevUI's registry (list, register)."""

from __future__ import annotations

from typing import Any

import falcon.asgi

from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump, load_body
from agentstage.api.schemas.workflows import (
    RegisteredWorkflowSchema,
    RegisterWorkflowSchema,
    RegistrySchema,
    WorkflowSchema,
    WorkflowSummarySchema,
)
from agentstage.runtime.errors import Refused
from agentstage.runtime.graph.builder import GraphError
from agentstage.runtime.system.graph_runs import workflow_dir
from agentstage.runtime.workflow.files import write_workflow_file
from agentstage.runtime.workflow.loader import WorkflowFileError, load_workflow
from agentstage.runtime.workflow.reference_format import is_reference_document

__all__ = ["WorkflowRegistryResource", "WorkflowResource", "WorkflowsResource"]


class WorkflowsResource(Resource):
    OPS = {"GET": Op("Workflows this runtime can run (and files that failed to load)", "workflows",
                     WorkflowSummarySchema, many=True)}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, WorkflowSummarySchema, await self.backend.call(self._rows), many=True)

    def _rows(self) -> list[dict]:
        registry = self.backend.system.workflows
        registry.refresh()
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


def _field(path: str, given: dict[str, Any]) -> str:
    """A loader problem's path as a field of the request body (`spec.nodes[1].kind`; `name` when given there)."""
    return path if path in ("name", "description") and given.get(path) else f"spec.{path}" if path != "$" else "spec"


class WorkflowRegistryResource(Resource):
    OPS = {
        "GET": Op("Registered workflow names, in the reference DevUI's registry shape", "workflows", RegistrySchema),
        "POST": Op("Register a workflow: the reference DevUI's JSON format or agentstage's", "workflows",
                   RegisteredWorkflowSchema, status=201, body=RegisterWorkflowSchema, errors=(409, 422),
                   description="The workflow is compiled now: a bad node or edge is a 422 naming its path "
                               "(spec.nodes[1].kind). A taken name is a 409 (names are never replaced). With "
                               "persist it is written to <AGENTSTAGE_WORKFLOW_DIR>/<name>.json, where restarts, "
                               "other API processes and workers sharing the directory load it; with a coordinator "
                               "a workflow that is not persisted would reach no worker, so it is a 409."),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        registry = self.backend.system.workflows

        def names() -> list[str]:
            registry.refresh()
            return registry.names()

        listed = await self.backend.call(names)
        dump(resp, RegistrySchema, {"workflows": [{"name": n} for n in listed], "count": len(listed)})

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await load_body(req, RegisterWorkflowSchema)
        registered = await self.backend.call(self._register, body)
        await self.backend.commit(req, "workflow.register", registered["name"], (),
                                  {k: registered[k] for k in ("persisted", "format", "file")})
        dump(resp, RegisteredWorkflowSchema, registered, status=201)

    def _register(self, body: dict[str, Any]) -> dict[str, Any]:
        """Compile, check the name, then register in memory or through a new file (on the pool)."""
        document = dict(body["spec"])
        for key in ("name", "description"):
            if body[key] and body[key].strip():
                document[key] = body[key].strip()
        reference = is_reference_document(document)
        try:
            graph = load_workflow(document, "spec")
        except WorkflowFileError as exc:
            errors: dict[str, list[str]] = {}
            for problem in exc.problems:
                path, _, message = problem.partition(": ")
                errors.setdefault(_field(path, body), []).append(message)
            raise FieldError(422, title="Invalid workflow", description="; ".join(exc.problems),
                             errors=errors) from None
        if not graph.name[:1].isalnum():
            raise FieldError(422, title="Invalid workflow", description="the name must start with a letter or digit",
                             errors={_field("name", body): ["must start with a letter or digit"]})
        system, persist = self.backend.system, body["persist"]
        registry = system.workflows
        registry.refresh()
        if graph.name in registry or graph.name in registry.invalid:
            raise Refused(graph.name, f"a workflow named {graph.name!r} is registered; names are not replaced",
                          field="name")
        if self.backend.control.remote and not persist:
            raise Refused(graph.name, "with a coordinator the workers run workflows: register it with persist=true "
                                      "so they load it from the workflow directory (AGENTSTAGE_WORKFLOW_DIR)",
                          field="persist")
        file = None
        if persist:
            path = write_workflow_file(workflow_dir(system.config), graph.name, document)
            try:
                registry.load_file(path)
            except GraphError as exc:
                path.unlink(missing_ok=True)
                raise Refused(graph.name, "; ".join(exc.problems), field="name") from None
            file = str(path)
        else:
            try:
                registry.register(graph.name, graph)
            except GraphError as exc:
                raise Refused(graph.name, "; ".join(exc.problems), field="name") from None
        return {"name": graph.name, "description": graph.description, "persisted": persist,
                "format": "reference" if reference else "agentstage", "file": file}
