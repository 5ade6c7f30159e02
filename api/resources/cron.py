"""Schedules at the reference DevUI's paths: `/cron/jobs` (list, create), `/cron/jobs/{name}` (read, enable/disable
or change, delete), `/cron/jobs/{name}/trigger`, `/cron/jobs/{name}/history` (and `/logs`)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import falcon.asgi

from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump, load_body, load_query
from agentstage.api.schemas.cron import (
    JobCreateSchema,
    JobHistoryQuery,
    JobHistorySchema,
    JobPatchSchema,
    JobRemovedSchema,
    JobSchema,
    JobTriggeredSchema,
)
from agentstage.runtime.clock import parse_ts, utc_now
from agentstage.runtime.errors import InvalidArgument, NotFound, Refused
from agentstage.runtime.schedules import Firing, enabled, new_schedule, next_tick, retimed, ts_of
from agentstage.runtime.state.records import ScheduleRemoved
from agentstage.runtime.state.schedules import fires, get_schedule, last_scheduled_tick, list_schedules, started_count

__all__ = ["CronHistoryResource", "CronJobResource", "CronJobsResource", "CronTriggerResource"]

_API_FIELDS = {"cron": "cronExpr", "every_s": "intervalSeconds", "grace_s": "graceSeconds", "timezone": "timezone",
               "input": "config.input", "agent": "config.agent", "workflow": "config.workflow", "name": "name"}
_OUTPUT_CUT = 2000


def _named(exc: InvalidArgument) -> FieldError:
    """A 422 naming the request's field (cronExpr, config.workflow, ...) for a runtime InvalidArgument."""
    return FieldError(422, title="Invalid request", description="some fields are invalid",
                      errors={_API_FIELDS.get(exc.field, exc.field): [exc.reason]})


def _job(reader: Any, row: dict[str, Any]) -> dict[str, Any]:
    """A stored schedule in the reference's Job shape, with its latest firing and next tick."""
    last = fires(reader, row["name"], limit=1)
    fire = last[0] if last else None
    following = next_tick(row, last_scheduled_tick(reader, row["name"]), datetime.now(UTC))
    return {"name": row["name"], "cronExpr": row["cron"], "timezone": row["timezone"],
            "intervalSeconds": row["every_s"], "graceSeconds": row["grace_s"], "enabled": row["enabled"],
            "config": {"input": row["input"], "agent": row["agent"], "workflow": row["workflow"]},
            "createdAt": row["created_at"], "updatedAt": row["updated_at"],
            "lastRun": fire["claimed_at"] if fire else None, "lastStatus": _status(fire) if fire else None,
            "lastRunId": (fire["run_id"] or None) if fire else None,
            "nextRun": ts_of(following) if following else None,
            "lastError": _error(fire) if fire else None, "runCount": started_count(reader, row["name"])}


def _status(fire: dict[str, Any]) -> str:
    return (fire["run"] or {}).get("status") or fire["status"]


def _error(fire: dict[str, Any]) -> str | None:
    return fire["error"] or (fire["run"] or {}).get("error")


def _job_run(fire: dict[str, Any]) -> dict[str, Any]:
    run = fire["run"] or {}
    ended = run.get("ended_at")
    output = run.get("output")
    return {"at": fire["claimed_at"], "tick": fire["tick"], "trigger": fire["trigger"], "status": _status(fire),
            "runId": fire["run_id"] or None, "output": output[:_OUTPUT_CUT] if output else output,
            "durationMs": round((parse_ts(ended) - parse_ts(fire["claimed_at"])).total_seconds() * 1000, 3)
            if ended else None, "error": _error(fire), "missed": int(fire["detail"].get("missed", 0)),
            "owner": fire["owner"]}


class _CronResource(Resource):
    async def _read(self, fn: Any) -> Any:
        """`fn(reader)` on the pool with the System's reader, so schedules are read from whichever store holds
        them (SQLite, or Redis with AGENTSTAGE_STATE=redis)."""
        return await self.backend.call(lambda: fn(self.backend.system.reader()))


class CronJobsResource(_CronResource):
    OPS = {
        "GET": Op("Schedules (cron or interval), by name", "schedules", JobSchema, many=True),
        "POST": Op("Create a schedule", "schedules", JobSchema, status=201, body=JobCreateSchema, errors=(409, 422),
                   description="A 5-field cronExpr in `timezone` (default UTC) or intervalSeconds; it starts runs of "
                   "config.agent (or config.workflow) on config.input. A tick missed while no scheduler ran fires "
                   "once if at most graceSeconds late (default 300), else it is recorded skipped."),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, JobSchema, await self._read(lambda r: [_job(r, row) for row in list_schedules(r)]),
             many=True)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await load_body(req, JobCreateSchema)
        config = body["config"]
        control = self.backend.control

        def build() -> Any:
            try:
                get_schedule(self.backend.system.reader(), body["name"])
            except NotFound:
                pass
            else:
                raise Refused(body["name"], f"a schedule named {body['name']!r} exists", field="name")
            try:
                control.check_start(agent=config["agent"], workflow=config["workflow"] or None)
                created = new_schedule(body["name"], cron=body.get("cronExpr"), every_s=body.get("intervalSeconds"),
                                       timezone=body.get("timezone", "UTC"), agent=config["agent"],
                                       workflow=config["workflow"], input=config["input"],
                                       grace_s=body.get("graceSeconds", 300.0), enabled=body["enabled"])
                # NOTE: the check above answers at once; the conditional write refuses a create that raced it
                return dataclasses.replace(created, condition="create")
            except InvalidArgument as exc:
                raise _named(exc) from None

        record = await self.backend.call(build)
        await self.backend.commit(req, "cron.create", record.name, (record,),
                                  {"cron": record.cron, "every_s": record.every_s, "timezone": record.timezone,
                                   "agent": record.agent, "workflow": record.workflow})
        dump(resp, JobSchema, await self._read(lambda r: _job(r, get_schedule(r, record.name))), status=201)


class CronJobResource(_CronResource):
    OPS = {
        "GET": Op("One schedule", "schedules", JobSchema, errors=(404,)),
        "PATCH": Op("Enable, disable or change a schedule", "schedules", JobSchema, body=JobPatchSchema,
                    errors=(404, 422), description="Enabling counts ticks from now: ticks while it was disabled "
                    "are not missed ticks. A new timing also counts from now."),
        "DELETE": Op("Delete a schedule and its history", "schedules", JobRemovedSchema, errors=(404,)),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        dump(resp, JobSchema, await self._read(lambda r: _job(r, get_schedule(r, name))))

    async def on_patch(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        body = await load_body(req, JobPatchSchema)
        control = self.backend.control

        def change() -> Any:
            row = get_schedule(self.backend.system.reader(), name)
            if set(body) == {"enabled"}:
                return enabled(row, body["enabled"])
            config = body.get("config", {})
            changes = {k: v for k, v in (("cron", body.get("cronExpr")), ("every_s", body.get("intervalSeconds")),
                                         ("timezone", body.get("timezone")), ("grace_s", body.get("graceSeconds")),
                                         ("enabled", body.get("enabled")), ("input", config.get("input")),
                                         ("agent", config.get("agent"))) if v is not None}
            if "workflow" in config:
                changes["workflow"] = config["workflow"] or None
            if body.get("cronExpr") is not None:
                changes["every_s"] = None
            if body.get("intervalSeconds") is not None:
                changes["cron"] = None
            try:
                merged = retimed(row, **changes)
                control.check_start(agent=merged.agent, workflow=merged.workflow)
                return merged
            except InvalidArgument as exc:
                raise _named(exc) from None

        record = dataclasses.replace(await self.backend.call(change), condition="update")
        await self.backend.commit(req, "cron.update", name, (record,), {k: v for k, v in body.items() if k != "config"})
        dump(resp, JobSchema, await self._read(lambda r: _job(r, get_schedule(r, name))))

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        await self._read(lambda r: get_schedule(r, name))
        await self.backend.commit(req, "cron.delete", name, (ScheduleRemoved(name, utc_now()),))
        dump(resp, JobRemovedSchema, {"status": "removed"})


class CronTriggerResource(_CronResource):
    OPS = {"POST": Op("Start a run of a schedule now (enabled or not)", "schedules", JobTriggeredSchema,
                      errors=(404,), description="The run starts (or is queued) and the answer comes at once: "
                      "follow it at /runs/{runId}. Recorded in the schedule's history as a manual firing.")}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        firing = Firing(self.backend.system, self.backend.control)
        fired = await self.backend.call(firing.trigger, name, before=self.backend.auditor(req, "cron.trigger", name))
        dump(resp, JobTriggeredSchema, {"name": name, "status": fired["status"], "runId": fired["run_id"] or None,
                                        "output": None, "error": fired["error"]})


class CronHistoryResource(_CronResource):
    OPS = {"GET": Op("A schedule's firings, newest first", "schedules", JobHistorySchema, query=JobHistoryQuery,
                     errors=(404, 422))}

    def __init__(self, backend: Any, key: str = "runs") -> None:
        super().__init__(backend)
        self.key = key

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        limit = load_query(req, JobHistoryQuery)["limit"]

        def history(reader: Any) -> list[dict[str, Any]]:
            get_schedule(reader, name)
            return [_job_run(f) for f in fires(reader, name, limit=limit)]

        runs = await self._read(history)
        dump(resp, JobHistorySchema, {"name": name, self.key: runs, "count": len(runs),
                                      **({"runs": runs} if self.key != "runs" else {})})
