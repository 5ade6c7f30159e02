"""Workflows: list them, show one with its Mermaid diagram."""

from __future__ import annotations

import falcon.asgi

from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump
from agentstage.api.schemas.workflows import WorkflowSchema, WorkflowSummarySchema
from agentstage.runtime.graph.builder import GraphError

__all__ = ["WorkflowResource", "WorkflowsResource"]


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
