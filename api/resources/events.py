"""Events: ingest an external event into a run's trace; Server-Sent Event streams."""

from __future__ import annotations

from typing import Any

import falcon.asgi

from agentstage.api.asgi import on_disconnect
from agentstage.api.backend import Backend
from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump, load_body, load_query
from agentstage.api.schemas.runs import EventIngestedSchema, EventIngestSchema, RunStreamQuery, StreamQuery
from agentstage.api.sse import TERMINAL_STATUSES, LiveStream, all_events_stream, run_event_stream
from agentstage.runtime.clock import utc_now
from agentstage.runtime.state import Event

__all__ = ["EventStreamResource", "EventsResource", "RunStreamResource", "open_stream", "sse_headers"]

_SSE = "text/event-stream"
_ATTEMPTS = 5
_STREAM_ERRORS = (422, 429)


class EventsResource(Resource):
    OPS = {"POST": Op("Add an external event to a finished run's trace", "events", EventIngestedSchema, status=201,
                      body=EventIngestSchema, errors=(404, 409, 422),
                      description="The run must have ended: a running run's events are numbered by the runtime.")}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await load_body(req, EventIngestSchema)
        run = await self.backend.read(lambda reader: reader.get_run(body["run_id"]))
        if run.status not in TERMINAL_STATUSES:
            raise FieldError(409, title="Conflict", description=f"run {run.run_id} is {run.status}",
                             errors={"run_id": ["the run has not ended; its events are numbered by the runtime"]})
        for _ in range(_ATTEMPTS):
            seq = await self.backend.read(lambda reader: reader.last_seq(run.run_id)) + 1
            event = Event(run.run_id, seq, body["type"], utc_now(), run.session_id, body["data"], body["node"],
                          body["tool"], None, body["duration_ms"], body["error"])
            await self.backend.commit(req, "event.ingest", f"{run.run_id}#{seq}", [event],
                                      {"type": event.type, "seq": seq})
            stored = await self.backend.read(lambda reader, seq=seq: reader.event(run.run_id, seq))
            if stored is not None and stored.ts == event.ts and stored.type == event.type:
                dump(resp, EventIngestedSchema, {"run_id": run.run_id, "seq": seq}, status=201)
                return
        raise FieldError(409, title="Conflict", description="the run's events kept changing; try again")


class RunStreamResource(Resource):
    OPS = {"GET": Op("A run's events as Server-Sent Events, live until the run ends", "events", query=RunStreamQuery,
                     errors=(404, *_STREAM_ERRORS), media_type=_SSE,
                     description="`id:` is the event seq; send `Last-Event-ID` to resume after it. Live streams "
                                 "are limited per API key and in total (429 past a limit).")}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, run_id: str) -> None:
        q = load_query(req, RunStreamQuery)
        after = q["after_seq"] or 0
        last_id = req.get_header("Last-Event-ID")
        if last_id is not None:
            if not last_id.strip().isdigit():
                raise FieldError(422, title="Invalid request", errors={"Last-Event-ID": ["must be an event seq"]})
            after = int(last_id.strip())
        await self.backend.read(lambda reader: reader.get_run(run_id))
        subscription, release = open_stream(self.backend, req, run_id)
        sse_headers(resp)
        resp.stream = LiveStream(run_event_stream(self.backend, subscription, run_id, after,
                                                  heartbeat=self.backend.config.sse_heartbeat,
                                                  max_events=q["max_events"], timeout=q["timeout"]), release)


class EventStreamResource(Resource):
    OPS = {"GET": Op("Live events of all runs as Server-Sent Events (filter by run and type)", "events",
                     query=StreamQuery, errors=_STREAM_ERRORS, media_type=_SSE,
                     description="Live streams are limited per API key and in total (429 past a limit).")}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        q = load_query(req, StreamQuery, lists=("type",))
        subscription, release = open_stream(self.backend, req, q["run_id"], q["type"])
        sse_headers(resp)
        resp.stream = LiveStream(all_events_stream(self.backend, subscription, run_id=q["run_id"], types=q["type"],
                                                   backlog=q["backlog"], heartbeat=self.backend.config.sse_heartbeat,
                                                   max_events=q["max_events"], timeout=q["timeout"],
                                                   poll_store=self.backend.control.remote), release)


def open_stream(backend: Backend, req: falcon.asgi.Request, run_id: str | None,
                 types: list[str] | None = None) -> tuple[Any, Any]:
    """Take a stream slot of the caller's key (429 past a limit) and subscribe; returns the feed and its release."""
    lease = backend.streams.acquire(req.context.principal.key_id)
    try:
        subscription = backend.control.stream(run_id, types)
    except BaseException:
        lease.release()
        raise
    lease.on_end = (subscription.loop, subscription.end)
    on_disconnect(req, subscription.end)

    def release() -> None:
        subscription.close()
        lease.release()

    return subscription, release


def sse_headers(resp: falcon.asgi.Response) -> None:
    resp.content_type = _SSE
    resp.set_header("Cache-Control", "no-cache")
    resp.set_header("X-Accel-Buffering", "no")

