"""Health, readiness, the OpenAPI document and metrics."""

from __future__ import annotations

from datetime import timedelta

import falcon.asgi

from agentstage.api.backend import Backend
from agentstage.api.resources.base import Op, Resource, dump, load_query
from agentstage.api.errors import FieldError
from agentstage.api.schemas.admin import (
    HealthSchema,
    MetricsQuery,
    MetricsSchema,
    MetricsSeriesQuery,
    MetricsSeriesSchema,
    ReadySchema,
)
from agentstage.api.schemas.common import to_ts
from agentstage.runtime.clock import parse_ts, utc_now
from agentstage.runtime.errors import ConfigError
from agentstage.runtime.prices import load_prices
from agentstage.runtime.state import timeseries

__all__ = ["HealthResource", "MetricsResource", "MetricsSeriesResource", "OpenApiResource", "ReadyResource"]

_MAX_BUCKETS = 500


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


class MetricsSeriesResource(Resource):
    OPS = {"GET": Op("Runs per status, p50/p95 durations, tokens and estimated cost, queue depth and throughput, "
                     "per time bucket", "metrics", MetricsSeriesSchema, query=MetricsSeriesQuery, errors=(422, 500),
                     description="Costs use the price table (`AGENTSTAGE_PRICES_FILE`); models without a price are "
                     "listed in `unpriced_models`. Queue figures are null unless runs are queued.")}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        q = load_query(req, MetricsSeriesQuery)
        until = to_ts(q["until"]) or utc_now()
        since = to_ts(q["since"]) or timeseries.format_ts(parse_ts(until) - timedelta(hours=1))
        seconds = (parse_ts(until) - parse_ts(since)).total_seconds()
        if seconds <= 0:
            raise FieldError(422, title="Invalid request", errors={"since": ["must be before until"]})
        if seconds / q["bucket"] > _MAX_BUCKETS:
            raise FieldError(422, title="Invalid request", errors={
                "bucket": [f"{seconds:.0f} s in buckets of {q['bucket']} s is over {_MAX_BUCKETS} buckets"]})
        try:
            prices = load_prices(self.backend.config.prices_path)
        except ConfigError as exc:
            raise FieldError(500, title="Price table unreadable", description=str(exc)) from None
        with_queue = bool(self.backend.control.capabilities().get("queues"))
        dump(resp, MetricsSeriesSchema, await self.backend.read(lambda reader: timeseries.series(
            reader, since, until, q["bucket"], prices, with_queue=with_queue)))
