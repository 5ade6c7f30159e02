"""Runs: list, read, start; a run's events and checkpoints."""

from __future__ import annotations

from typing import Any

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
from agentstage.runtime.errors import NotFound
from agentstage.runtime.graph.builder import GraphError
from agentstage.runtime.state.admin import AdminReader

_VISIBLE_WAIT = 5.0
_MAX_STEP = 2**63 - 1

__all__ = ["RunCheckpointResource", "RunCheckpointsResource", "RunEventsResource", "RunResource", "RunsResource"]


class RunsResource(Resource):
    OPS = {
        "GET": Op("List runs (filters, keyset pagination, sort)", "runs", RunPageSchema, query=RunListQuery,
                  errors=(422,)),
        "POST": Op("Start a run of an agent or a workflow", "runs", RunStartedSchema, status=202, body=RunCreateSchema,
                   errors=(409, 422), description="status is `started` once the run is stored (readable at once), "
                   "`accepted` while it still waits for a free agent, `queued` when it went to the "
                   "distributed runtime's queue."),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        q = load_query(req, RunListQuery)
        filters = {"status": q["status"], "session_id": q["session_id"], "workflow": q["workflow"],
                   "worker_id": q["worker"]}
        try:
            page = await self.backend.read(lambda reader: reader.runs_page(
                filters=filters, since=to_ts(q["since"]), until=to_ts(q["until"]), limit=q["limit"],
                cursor=q["cursor"], order=q["sort"]))
        except ValueError:
            raise FieldError(422, title="Invalid request", errors={"cursor": ["malformed cursor"]}) from None
        dump(resp, RunPageSchema, page)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await load_body(req, RunCreateSchema)
        if self.backend.ops is not None:
            await self._enqueue(req, resp, body)
            return
        await self.backend.call(self._check, body)
        run_id = body["run_id"] or new_id()
        session_id = body["session_id"] or new_id()
        workflow = body["workflow"]
        # NOTE: the audit row is durable before the run exists, so no run starts unaudited.
        target = {"workflow": workflow} if workflow is not None else {"agent": body["agent"]}
        await self.backend.commit(req, "run.start", run_id, detail={**target, "session_id": session_id})
        subscription = self.backend.system.subscribe_async(run_id)
        try:
            handle = await self.backend.call(self._start, body, run_id, session_id)
            # NOTE: wait briefly for the run's first durable event, so a client can read it right away.
            visible = await subscription.get(timeout=_VISIBLE_WAIT) not in (None, subscription.ENDED)
        finally:
            subscription.close()
        dump(resp, RunStartedSchema, {"run_id": handle.run_id, "session_id": handle.session_id,
                                      "status": "started" if visible else "accepted"}, status=202)

    def _check(self, body: dict) -> None:
        """Refuse an unknown agent or workflow, or a run id in use (on the pool: reads the store)."""
        system = self.backend.system
        workflow = body["workflow"]
        if workflow is not None:
            try:
                system.graphs.graph(workflow)
            except NotFound:
                raise FieldError(422, title="Invalid request",
                                 errors={"workflow": [f"unknown workflow {workflow!r}"]}) from None
            except GraphError as exc:
                raise FieldError(422, title="Invalid request", errors={"workflow": exc.problems}) from None
        elif body["agent"] not in {spec.name for spec in system.agents()}:
            raise FieldError(422, title="Invalid request", errors={"agent": [f"unknown agent {body['agent']!r}"]})
        if body["run_id"] is not None:
            try:
                self.backend.reader().get_run(body["run_id"])
            except NotFound:
                pass
            else:
                raise FieldError(409, title="Conflict", description="a run with this id exists",
                                 errors={"run_id": ["already exists"]})

    def _start(self, body: dict, run_id: str, session_id: str) -> Any:
        system = self.backend.system
        if body["workflow"] is not None:
            return system.graph_run_async(body["workflow"], body["input"], session=session_id, run_id=run_id,
                                          metadata=body["metadata"])
        return system.run_async(body["input"], agent=body["agent"], session=session_id, metadata=body["metadata"],
                                run_id=run_id)

    async def _enqueue(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, body: dict) -> None:
        if body["run_id"] is not None:
            raise FieldError(422, title="Invalid request",
                             errors={"run_id": ["cannot be chosen when runs go through the distributed queue"]})
        workflow = body["workflow"]
        admitted = await self.backend.call(self.backend.ops.enqueue, body["input"], mode="graph" if workflow else "run",
                                           agent=body["agent"], workflow=workflow or "", session=body["session_id"],
                                           metadata=body["metadata"])
        target = {"workflow": workflow} if workflow is not None else {"agent": body["agent"]}
        await self.backend.commit(req, "run.enqueue", admitted["run_id"],
                                  detail={**target, "session_id": admitted["session_id"]})
        dump(resp, RunStartedSchema, {**admitted, "status": "queued"}, status=202)


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
