"""Health, readiness, the OpenAPI document and metrics."""

from __future__ import annotations

import falcon.asgi

from agentstage.api.backend import Backend
from agentstage.api.resources.base import Op, Resource, dump, load_query
from agentstage.api.schemas.admin import HealthSchema, MetricsQuery, MetricsSchema, ReadySchema
from agentstage.api.schemas.common import to_ts

__all__ = ["HealthResource", "MetricsResource", "OpenApiResource", "ReadyResource"]


class HealthResource(Resource):
    OPS = {"GET": Op("The process is up", "health", HealthSchema)}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, HealthSchema, {"status": "ok"})


class ReadyResource(Resource):
    OPS = {"GET": Op("The runtime, its store and (queued mode) Redis can serve (503 when one is down)", "health",
                     ReadySchema, errors=(503,),
                     description="A check reads `ok`, `degraded: reason` (still serving) or `down: reason`.")}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        checks = await self.backend.call(self._checks)
        ready = not any(value.startswith("down") for value in checks.values())
        dump(resp, ReadySchema, {"status": "ready" if ready else "unavailable", "checks": checks},
             status=200 if ready else 503)

    def _checks(self) -> dict[str, str]:
        checks = {"runtime": "ok" if self.backend.system.running else "down: stopped"}
        for name, health in (("store", self.backend.system.health()), ("reads", self.backend.reader().health())):
            checks[name] = "ok" if health.ok else f"{health.status}: {health.reason}"
        return {**checks, **self.backend.control.checks()}


class OpenApiResource(Resource):
    OPS = {"GET": Op("This document", "health", extra={"schema": {"type": "object"}})}

    def __init__(self, backend: Backend, document: dict) -> None:
        super().__init__(backend)
        self.document = document

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = self.document


class MetricsResource(Resource):
    OPS = {"GET": Op("Runs per status, p50/p95 durations, tokens per provider", "metrics", MetricsSchema,
                     query=MetricsQuery, errors=(422,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        since = to_ts(load_query(req, MetricsQuery)["since"])
        dump(resp, MetricsSchema, await self.backend.read(lambda reader: reader.metrics_summary(since)))
