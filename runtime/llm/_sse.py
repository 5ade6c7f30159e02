"""Decoding streamed answers: Server-Sent Events (via httpx-sse) and Ollama's NDJSON, as JSON values.

Decoders exist for sync and async responses and yield the same `(event name, JSON data)` items;
a vendor's `StreamParser` is pushed those items one at a time, so one parser serves both paths.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent, SSEError

from agentstage.runtime.errors import FatalError
from agentstage.runtime.llm.types import UNREPORTED, StreamDelta, Usage

__all__ = ["DONE", "StreamParser", "aiter_ndjson", "aiter_sse_json", "iter_ndjson", "iter_sse_json"]

DONE = object()
"""Data of the `[DONE]` sentinel event that ends an OpenAI stream."""

Item = tuple[str, Any]


class StreamParser:
    """Turns a vendor's stream items into deltas; pushed by a sync or an async reader.

    `feed` takes one decoded item and returns the deltas it completes; once `done` is set the
    reader stops. `end` is called when the body ends first: it returns the final deltas, or
    raises (a truncated stream is a `TransientError`).
    """

    done: bool = False
    usage: Usage = UNREPORTED
    """What the server has reported of this call's usage so far (read when the stream fails)."""

    def feed(self, event: str, data: Any) -> list[StreamDelta]:
        raise NotImplementedError

    def end(self) -> list[StreamDelta]:
        raise NotImplementedError


def iter_sse_json(provider: str, response: httpx.Response) -> Iterator[Item]:
    """Yield (event name, decoded JSON data) per event; `[DONE]` yields `DONE` as data.

    Raises FatalError when the body is not an event stream or an event's data is not JSON.
    """
    try:
        for sse in EventSource(response).iter_sse():
            if sse.data:
                yield _sse_item(provider, sse)
    except SSEError as exc:
        raise FatalError(provider, f"expected an event stream: {exc}") from None


async def aiter_sse_json(provider: str, response: httpx.Response) -> AsyncIterator[Item]:
    """`iter_sse_json` over an async response."""
    try:
        async for sse in EventSource(response).aiter_sse():
            if sse.data:
                yield _sse_item(provider, sse)
    except SSEError as exc:
        raise FatalError(provider, f"expected an event stream: {exc}") from None


def iter_ndjson(provider: str, response: httpx.Response) -> Iterator[Item]:
    """Yield ("", decoded JSON value) per non-empty line."""
    for line in response.iter_lines():
        if line.strip():
            yield "", _decode(provider, line)


async def aiter_ndjson(provider: str, response: httpx.Response) -> AsyncIterator[Item]:
    """`iter_ndjson` over an async response."""
    async for line in response.aiter_lines():
        if line.strip():
            yield "", _decode(provider, line)


def _sse_item(provider: str, sse: ServerSentEvent) -> Item:
    return sse.event, DONE if sse.data == "[DONE]" else _decode(provider, sse.data)


def _decode(provider: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise FatalError(provider, f"malformed JSON in stream: {text[:120]!r}") from None
