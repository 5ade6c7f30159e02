"""Shared fixtures: a temp state file, a Config and System on it, a private redis-server."""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pykka
import pytest

from agentstage.runtime import Config, System
from tests.redis_server import RedisServer, in_ci

@pytest.fixture(autouse=True)
def _no_leaked_actors() -> Iterator[None]:
    """Every test must stop the actors it started; leftovers are stopped and reported."""
    yield
    leaked = pykka.ActorRegistry.get_all()
    pykka.ActorRegistry.stop_all(block=True, timeout=5)
    assert not leaked, f"test leaked actors: {leaked}"

@pytest.fixture
def config(tmp_path: Path) -> Config:
    """A Config whose state lives in this test's temp dir and ignores the developer's .env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    return Config.from_env(env, dotenv=None, home=str(tmp_path / "home"), agent_pool_size=2)

@pytest.fixture
def system(config: Config) -> Iterator[System]:
    with System(config) as started:
        yield started

@pytest.fixture
def interpreter_gc() -> Iterator[None]:
    """The collector as the interpreter starts it (enabled, 700/10/10), restored to what it was afterwards."""
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(700, 10, 10)
    gc.enable()
    yield
    gc.set_threshold(*thresholds)
    (gc.enable if enabled else gc.disable)()

@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server on a private port for the whole session; flushed by `redis_url`."""
    if shutil.which("redis-server") is None:
        if in_ci():
            pytest.fail("redis-server is required in CI")
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()

@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """URL of the private redis-server, emptied before the test."""
    if redis_server.process is None:
        redis_server.start()
    redis_server.flush()
    return redis_server.url
