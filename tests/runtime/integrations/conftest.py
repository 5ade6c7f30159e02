"""Fixtures of the integration tests: a local HTTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.local_http import LocalHTTP


@pytest.fixture
def http() -> Iterator[LocalHTTP]:
    with LocalHTTP() as server:
        yield server
