"""Runs: list, read, start; a run's events and checkpoints."""

from __future__ import annotations

import falcon.asgi

from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump, load_body, load_query
from agentstage.api.schemas.common import to_ts
from agentstage.api.schemas.runs import (
    CheckpointSchema,
    CheckpointSummarySchema,
    EventSchema,
    EventsQuery,
    RunCreateSchema,
    RunListQuery,
    RunPageSchema,
    RunSchema,
    RunStartedSchema,
)
from agentstage.runtime.clock import new_id
from agentstage.runtime.state.admin import AdminReader

_MAX_STEP = 2**63 - 1

__all__ = ["RunCheckpointResource", "RunCheckpointsResource", "RunEventsResource", "RunResource", "RunsResource"]


class RunsResource(Resource):
    OPS = {
        "GET": Op("List runs (filters, keyset pagination, sort)", "runs", RunPageSchema, query=RunListQuery,
                  errors=(422,)),
        "POST": Op("Start a run of an agent or a workflow", "runs", RunStartedSchema, status=202, body=RunCreateSchema,
                   errors=(409, 422), description="status is `started` once the run is stored (readable at once), "
                   "`accepted` while it still waits for a free agent, `queued` when it went to the "
                   "coordinator's queue (queued mode)."),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        q = load_query(req, RunListQuery, lists=("parent_run_id",))
        filters = {"status": q["status"], "session_id": q["session_id"], "workflow": q["workflow"],
                   "agent": q["agent"], "worker_id": q["worker"]}
        try:
            page = await self.backend.read(lambda reader: reader.runs_page(
                filters=filters, since=to_ts(q["since"]), until=to_ts(q["until"]), limit=q["limit"],
                cursor=q["cursor"], order=q["sort"], id_prefix=q["id_prefix"], text=q["q"],
                top_level=q["top_level"], parents=q["parent_run_id"]))
        except ValueError:
            raise FieldError(422, title="Invalid request", errors={"cursor": ["malformed cursor"]}) from None
        dump(resp, RunPageSchema, page)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await load_body(req, RunCreateSchema)
        run_id, workflow = body["run_id"] or new_id(), body["workflow"]
        target = {"workflow": workflow} if workflow is not None else {"agent": body["agent"]}
        # NOTE: the audit row is durable before the run exists, so no run starts unaudited.
        audit = self.backend.auditor(req, "run.start", run_id, {**target, "session_id": body["session_id"]})
        started = await self.backend.call(self.backend.control.start, body["input"], agent=body["agent"],
                                          workflow=workflow, session=body["session_id"], metadata=body["metadata"],
                                          run_id=run_id, before=audit)
        dump(resp, RunStartedSchema, started, status=202)


class RunResource(Resource):
    OPS = {"GET": Op("One run", "runs", RunSchema, errors=(404,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        dump(resp, RunSchema, await self.backend.read(lambda reader: reader.get_run(run_id)))


class RunEventsResource(Resource):
    OPS = {"GET": Op("A run's events in seq order, after after_seq", "runs", EventSchema, many=True,
                     query=EventsQuery, errors=(404, 422))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        q = load_query(req, EventsQuery)
        events = await self.backend.read(lambda reader: _or_missing(
            reader, run_id, reader.events(run_id, after_seq=q["after_seq"], limit=q["limit"])))
        dump(resp, EventSchema, events, many=True)


class RunCheckpointsResource(Resource):
    OPS = {"GET": Op("A run's checkpoints in step order (without state)", "runs", CheckpointSummarySchema, many=True,
                     errors=(404,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        checkpoints = await self.backend.read(lambda reader: _or_missing(reader, run_id, reader.checkpoints(run_id)))
        dump(resp, CheckpointSummarySchema, checkpoints, many=True)


class RunCheckpointResource(Resource):
    OPS = {"GET": Op("One checkpoint with its state", "runs", CheckpointSchema, errors=(404, 422))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str, step: int) -> None:
        if not 0 <= step <= _MAX_STEP:
            raise FieldError(422, title="Invalid request", errors={"step": [f"must be between 0 and {_MAX_STEP}"]})
        dump(resp, CheckpointSchema, await self.backend.read(lambda reader: reader.checkpoint(run_id, step)))


def _or_missing(reader: AdminReader, run_id: str, rows: list) -> list:
    """`rows`, or NotFound when they are empty because the run does not exist."""
    if not rows:
        reader.get_run(run_id)
    return rows
