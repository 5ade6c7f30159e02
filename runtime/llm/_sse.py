"""Decoding streamed answers: Server-Sent Events (via httpx-sse) and Ollama's NDJSON, as JSON values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
from httpx_sse import EventSource, SSEError

from agentstage.runtime.errors import FatalError

__all__ = ["DONE", "iter_ndjson", "iter_sse_json"]

DONE = object()
"""Data of the `[DONE]` sentinel event that ends an OpenAI stream."""


def iter_sse_json(provider: str, response: httpx.Response) -> Iterator[tuple[str, Any]]:
    """Yield (event name, decoded JSON data) per event; `[DONE]` yields `DONE` as data.

    Raises FatalError when the body is not an event stream or an event's data is not JSON.
    """
    try:
        for sse in EventSource(response).iter_sse():
            if not sse.data:
                continue
            if sse.data == "[DONE]":
                yield sse.event, DONE
                continue
            yield sse.event, _decode(provider, sse.data)
    except SSEError as exc:
        raise FatalError(provider, f"expected an event stream: {exc}") from None


def iter_ndjson(provider: str, response: httpx.Response) -> Iterator[Any]:
    """Yield one decoded JSON value per non-empty line."""
    for line in response.iter_lines():
        if line.strip():
            yield _decode(provider, line)


def _decode(provider: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise FatalError(provider, f"malformed JSON in stream: {text[:120]!r}") from None
