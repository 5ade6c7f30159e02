"""The two ways a provider is called: its sync methods, or its async ones on an I/O loop.

`Http` hands a test the client keyword arguments for an adapter and wraps the adapter so
`generate` and `stream` go through `agenerate` and `astream` on a running `IOLoop` when the
test runs the async path; the test body stays the same for both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import httpx

from agentstage.runtime.aio import IOLoop
from agentstage.runtime.llm._clients import default_async_client
from agentstage.runtime.llm.types import LLMRequest, LLMResponse, Provider, StreamDelta

P = TypeVar("P", bound=Provider)
CALL_TIMEOUT = 60.0


class Http:
    """Client arguments and call path of one test; `Http(client)` is the sync path."""

    def __init__(self, client: httpx.Client, io: IOLoop | None = None) -> None:
        self.io = io
        self.clients: dict[str, Any] = {"client": client} if io is None else {
            "async_client": default_async_client(timeout=10.0, connect_timeout=5.0)}
        self._made: list[Provider] = []

    @property
    def mode(self) -> str:
        return "sync" if self.io is None else "async"

    def __call__(self, provider: P) -> P:
        """`provider`, called through this test's path (closed with the test)."""
        self._made.append(provider)
        return provider if self.io is None else OnLoop(provider, self.io)  # type: ignore[return-value]

    def close(self) -> None:
        for provider in self._made:
            provider.close()
        if self.io is not None:
            for provider in self._made:
                self.io.run(provider.aclose(), CALL_TIMEOUT)
            self.io.run(self.clients["async_client"].aclose(), CALL_TIMEOUT)


class OnLoop:
    """A provider whose `generate`/`stream` run its `agenerate`/`astream` on an I/O loop."""

    def __init__(self, provider: Provider, io: IOLoop) -> None:
        self._provider = provider
        self._io = io

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)

    def generate(self, request: LLMRequest) -> LLMResponse:
        return self._io.run(self._provider.agenerate(request), CALL_TIMEOUT)

    def stream(self, request: LLMRequest) -> Iterator[StreamDelta]:
        deltas = self._provider.astream(request)
        try:
            while True:
                try:
                    yield self._io.run(_next(deltas), CALL_TIMEOUT)
                except StopAsyncIteration:
                    return
        finally:
            self._io.run(deltas.aclose(), CALL_TIMEOUT)  # type: ignore[attr-defined]


async def _next(deltas: AsyncIterator[StreamDelta]) -> StreamDelta:
    return await anext(deltas)
