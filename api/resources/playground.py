"""The playground at the reference DevUI's paths: `/playground/run` answers once the run ended,
`/playground/stream` streams it as Server-Sent Events named `delta`, `progress` and `complete`.

Unlike the reference, both need an operator key (they run agents and their tools) and the stream
carries this run's events only. Runs start through the run control like any other run.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import falcon.asgi

from agentstage.api.playground import Resolved, resolve, response
from agentstage.api.redaction import redacted
from agentstage.api.resources.base import Op, Resource, dump, load_body
from agentstage.api.resources.events import open_stream, sse_headers
from agentstage.api.schemas.playground import PlaygroundRequestSchema, PlaygroundResponseSchema
from agentstage.api.sse import LiveStream
from agentstage.runtime.clock import new_id
from agentstage.runtime.errors import NotFound
from agentstage.runtime.state.records import TERMINAL_STATUSES, Event

__all__ = ["PlaygroundRunResource", "PlaygroundStreamResource", "run_and_wait"]

_ENDS = frozenset({"run.completed", "run.failed", "run.cancelled", "run.waiting"})
_POLL = 0.5
_DRAIN_TRIES = 40
_SETTLED = TERMINAL_STATUSES | {"waiting"}


async def _start(resource: Resource, req: falcon.asgi.Request, body: dict[str, Any],
                 run_id: str | None = None) -> tuple[Resolved, str, str, str]:
    """Resolve and start the run (audited); returns (resolved, run id, session id, provider)."""
    backend = resource.backend
    control, system = backend.control, backend.system
    run_id = run_id or new_id()
    resolved = await backend.call(resolve, system, control, body)
    metadata = {"source": "playground", **({"flow": resolved.flow} if resolved.flow else {})}
    started = await backend.call(lambda: control.start(
        body["input"], agent=resolved.agent, workflow=resolved.workflow, session=body.get("sessionId"),
        metadata=metadata, run_id=run_id,
        before=backend.auditor(req, "playground.run", run_id, {"agent": resolved.agent,
                                                                      "workflow": resolved.workflow,
                                                                      "flow": resolved.flow})))
    provider = system.provider_name(resolved.agent) if resolved.workflow is None else f"workflow:{resolved.workflow}"
    return resolved, started.run_id, started.session_id, provider


async def run_and_wait(resource: Resource, req: falcon.asgi.Request, body: dict[str, Any]) -> dict[str, Any]:
    """Start the playground run of `body` and wait for it; the PlaygroundResponse."""
    resolved, run_id, session_id, provider = await _start(resource, req, body)
    timeout = body.get("timeout") or resource.backend.config.run_timeout
    row = await settled_row(resource.backend, run_id, timeout)
    return response(row, run_id, session_id, provider, resolved, body.get("replyTo"), timeout)


async def settled_row(backend: Any, run_id: str, timeout: float) -> Any:
    """The run's row once it settled, or None after `timeout` s. Waits on the event loop (woken by the run's
    end event, checking the store every `_POLL` s for runs recorded elsewhere), so no API thread is held."""
    control = backend.control
    deadline = time.monotonic() + timeout
    ends = control.stream(run_id, _ENDS)
    try:
        while True:
            row = await backend.call(control.wait, run_id, 0)
            remaining = deadline - time.monotonic()
            if row is not None or remaining <= 0:
                return row
            if await ends.get(timeout=min(_POLL, remaining)) is ends.ENDED:
                await asyncio.sleep(min(_POLL, remaining))
    finally:
        ends.end()


class PlaygroundRunResource(Resource):
    OPS = {"POST": Op("Run an input on a flow, an agent configuration or a workflow and answer once it ended",
                      "playground", PlaygroundResponseSchema, body=PlaygroundRequestSchema, errors=(409, 422),
                      description="A run that fails still answers 200 with `status: failed` and the error, as the "
                                  "reference does; the run is stored like any other (metadata source=playground).")}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await load_body(req, PlaygroundRequestSchema)
        dump(resp, PlaygroundResponseSchema, await run_and_wait(self, req, body))


def _stored_since(reader: Any, run_id: str, after: int) -> tuple[bool, list[Event]]:
    """Whether the stored run has settled, and its events after `after`, read in that order: a settled row
    comes with all its events."""
    try:
        settled = reader.get_run(run_id).status in _SETTLED
    except NotFound:
        settled = False
    return settled, reader.events(run_id, after_seq=after)


def _named(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n".encode()


def _progress(event: Event) -> dict[str, Any]:
    kind, _, status = event.type.partition(".")
    message = event.error or event.data.get("content") or event.data.get("error") or ""
    return {"kind": kind, "status": status, "name": event.type, "message": redacted(str(message)[:2000]),
            "toolName": event.tool, "runId": event.run_id, "seq": event.seq}


class PlaygroundStreamResource(Resource):
    OPS = {"POST": Op("Run like /playground/run and stream it as Server-Sent Events", "playground",
                      body=PlaygroundRequestSchema, errors=(409, 422, 429), media_type="text/event-stream",
                      description="Named events: `delta` {text} for each model token chunk, `progress` {kind, "
                                  "status, name, message, toolName, runId} for each of this run's events, then "
                                  "`complete` with the PlaygroundResponse.")}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await load_body(req, PlaygroundRequestSchema)
        run_id = new_id()
        subscription, release = open_stream(self.backend, req, run_id)
        try:
            resolved, run_id, session_id, provider = await _start(self, req, body, run_id)
        except BaseException:
            release()
            raise
        sse_headers(resp)
        timeout = body.get("timeout") or self.backend.config.run_timeout
        resp.stream = LiveStream(self._events(subscription, resolved, run_id, session_id, provider, body, timeout),
                                 release)

    async def _events(self, subscription: Any, resolved: Resolved, run_id: str, session_id: str, provider: str,
                      body: dict[str, Any], timeout: float) -> AsyncIterator[bytes]:
        backend, control = self.backend, self.backend.control
        deadline, seen = time.monotonic() + timeout, 0
        while (remaining := deadline - time.monotonic()) > 0:
            event = await subscription.get(timeout=min(_POLL, remaining))
            if event is subscription.ENDED:
                break
            if event is None:
                if control.remote:
                    stored = await backend.read(lambda reader, after=seen: reader.events(run_id, after_seq=after))
                    for found in stored:
                        seen = found.seq
                        yield _named("progress", _progress(found))
                if await backend.call(control.wait, run_id, 0) is not None:
                    break
                continue
            if event.type == "llm.delta":
                yield _named("delta", {"text": redacted(str(event.data.get("text", "")))})
                continue
            if event.seq <= seen:
                continue
            seen = event.seq
            yield _named("progress", _progress(event))
            if event.type in _ENDS:
                break
        # NOTE: the run may have been seen settled in the store before the observer delivered its last events;
        # they are read after the row, so a settled row comes with all of them.
        for _ in range(_DRAIN_TRIES):
            settled, stored = await backend.read(lambda reader, after=seen: _stored_since(reader, run_id, after))
            for found in stored:
                seen = found.seq
                yield _named("progress", _progress(found))
            if settled or time.monotonic() >= deadline:
                break
            await asyncio.sleep(_POLL / 10)
        row = await backend.call(control.wait, run_id, 0)
        result = response(row, run_id, session_id, provider, resolved, body.get("replyTo"), timeout)
        yield _named("complete", PlaygroundResponseSchema().dump(result))
