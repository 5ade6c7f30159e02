"""Fixtures of the provider tests: the local wire-format server and an httpx client for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

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
