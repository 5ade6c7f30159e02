"""Fixtures of the tool tests: a tool context on a temp sandbox, a local HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentstage.runtime.tools.builtin import builtin_registry
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.registry import ToolRegistry
from tests.local_http import LocalHTTP


@pytest.fixture
def context(tmp_path: Path) -> ToolContext:
    """Sandbox in a temp dir; loopback allowed by name so the local server is reachable."""
    return ToolContext(sandbox=(tmp_path / "sandbox").resolve(), allow_hosts=("127.0.0.1",), shell_enabled=True)


@pytest.fixture
def tools(context: ToolContext) -> ToolRegistry:
    return builtin_registry(context)


@pytest.fixture
def http() -> Iterator[LocalHTTP]:
    with LocalHTTP() as server:
        yield server
