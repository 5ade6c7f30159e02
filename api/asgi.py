"""The ASGI app class: Falcon's, plus prompt notice of a client that leaves an open stream.

An ASGI server's `send` does nothing once the client has gone, so a live event stream would
only learn of it from the next write that fails to matter. This app watches `receive` for
`http.disconnect` once a response has started and calls what the responder registered with
`on_disconnect`, so a stream (and its slot under the stream limits) ends at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import falcon.asgi

__all__ = ["App", "on_disconnect"]

_CALLBACKS = "agentstage.on_disconnect"


def on_disconnect(req: falcon.asgi.Request, callback: Callable[[], None]) -> None:
    """Call `callback` (on the loop) when the client of `req` disconnects; no-op outside `App`."""
    callbacks = req.scope.get(_CALLBACKS)
    if callbacks is not None:
        callbacks.append(callback)


class App(falcon.asgi.App):
    """`falcon.asgi.App` that runs `on_disconnect` callbacks when a streaming client goes away."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:  # type: ignore[override]
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        callbacks: list[Callable[[], None]] = []
        scope[_CALLBACKS] = callbacks
        watcher: asyncio.Task | None = None

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            for callback in callbacks:
                callback()

        async def watched_send(message: dict[str, Any]) -> None:
            nonlocal watcher
            if message["type"] == "http.response.start" and callbacks and watcher is None:
                watcher = asyncio.create_task(watch())
            await send(message)

        try:
            await super().__call__(scope, receive, watched_send)
        finally:
            if watcher is not None:
                watcher.cancel()
