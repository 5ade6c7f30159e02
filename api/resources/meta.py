"""Health, readiness, the OpenAPI document, metrics and the tool registry."""

from __future__ import annotations

import falcon

from agentstage.api.resources.base import Op, Resource, dump, load_query
from agentstage.api.schemas.admin import HealthSchema, MetricsQuery, MetricsSchema, ReadySchema, ToolSchema
from agentstage.api.schemas.common import to_ts

__all__ = ["HealthResource", "MetricsResource", "OpenApiResource", "ReadyResource", "ToolsRegistryResource"]


class HealthResource(Resource):
    OPS = {"GET": Op("The process is up", "health", HealthSchema)}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        dump(resp, HealthSchema, {"status": "ok"})


class ReadyResource(Resource):
    OPS = {"GET": Op("The runtime and its store can serve (503 when not)", "health", ReadySchema, errors=(503,))}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        checks = {"runtime": "ok" if self.backend.system.running else "stopped"}
        health = self.backend.reader().health()
        checks["store"] = "ok" if health.ok else f"{health.status}: {health.reason}"
        ready = all(value == "ok" for value in checks.values())
        dump(resp, ReadySchema, {"status": "ready" if ready else "unavailable", "checks": checks},
             status=200 if ready else 503)


class OpenApiResource(Resource):
    OPS = {"GET": Op("This document", "health", extra={"schema": {"type": "object"}})}

    def __init__(self, backend, document: dict) -> None:
        super().__init__(backend)
        self.document = document

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.document


class MetricsResource(Resource):
    OPS = {"GET": Op("Runs per status, p50/p95 durations, tokens per provider", "metrics", MetricsSchema,
                     query=MetricsQuery, errors=(422,))}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        q = load_query(req, MetricsQuery)
        dump(resp, MetricsSchema, self.backend.reader().metrics_summary(to_ts(q["since"])))


class ToolsRegistryResource(Resource):
    OPS = {"GET": Op("Tools registered in this runtime", "tools", ToolSchema, many=True)}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        dump(resp, ToolSchema, sorted(self.backend.system.tools, key=lambda t: t.name), many=True)
