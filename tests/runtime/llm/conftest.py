"""Fixtures of the provider tests: the local wire-format server, an httpx client for it, and the call path."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from agentstage.runtime.aio import IOLoop
from tests.runtime.llm.paths import Http
from tests.runtime.llm.wire_server import WireServer


@pytest.fixture
def wire() -> Iterator[WireServer]:
    """A running wire-format server; the test fails if an adapter sent a request the vendor would reject."""
    with WireServer() as server:
        yield server
        assert not server.violations, server.violations


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """An httpx client with short timeouts so failure tests stay quick (generous for a loaded machine)."""
    with httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0)) as http:
        yield http


@pytest.fixture
def io() -> Iterator[IOLoop]:
    """A running I/O loop, stopped after the test."""
    loop = IOLoop("test-io").start()
    yield loop
    loop.stop()


@pytest.fixture(params=["sync", "async"])
def http(request: pytest.FixtureRequest, client: httpx.Client) -> Iterator[Http]:
    """The call path under test: sync methods over `client`, or async ones over an aiohttp-backed client."""
    io = IOLoop("test-io").start() if request.param == "async" else None
    path = Http(client, io)
    try:
        yield path
    finally:
        path.close()
        if io is not None:
            io.stop()
