"""The Redis store beyond the contract: TTLs, expired rows leaving the indexes, Redis down and back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentstage.runtime.errors import StoreError
from agentstage.runtime.state.redis_layout import RedisLayout, connect
from agentstage.runtime.state.redis_reader import RedisReader
from agentstage.runtime.state.redis_store import RedisWriter
from tests.redis_server import RedisServer
from tests.runtime.state.conftest import checkpoint, completed, started

PREFIX = "redistest"


@pytest.fixture
def client(redis_url: str) -> Iterator:
    client = connect(redis_url, timeout=1.0)
    yield client
    client.close()


def test_hot_keys_get_the_configured_ttl(client) -> None:
    RedisWriter(client, PREFIX, ttl=600).write([started("r1"), checkpoint("r1", 1)])
    layout = RedisLayout(client, PREFIX)
    for key in (layout.run("r1"), layout.events("r1"), layout.checkpoints("r1"), layout.session("s1")):
        assert 0 < client.ttl(key) <= 600
    assert client.ttl(layout.runs_index()) == -1


def test_expired_runs_and_sessions_leave_the_listings(client) -> None:
    RedisWriter(client, PREFIX).write([started("r1"), completed("r1"), started("r2", session="s2", second=3)])
    layout = RedisLayout(client, PREFIX)
    client.delete(layout.run("r1"), layout.session("s2"))
    reader = RedisReader(client, PREFIX)
    assert [r.run_id for r in reader.list_runs().items] == ["r2"]
    assert [s["session_id"] for s in reader.list_sessions().items] == ["s1"]
    assert client.zcard(layout.runs_index()) == 1
    assert client.zcard(layout.sessions()) == 1


def test_redis_down_is_a_store_error_and_writes_resume_after_a_restart(client, redis_server: RedisServer) -> None:
    writer = RedisWriter(client, PREFIX, where="redis://test")
    writer.write([started("r1")])
    redis_server.kill()
    try:
        with pytest.raises(StoreError, match="redis://test"):
            writer.write([completed("r1")])
        assert writer.health().status == "down"
    finally:
        redis_server.start()
    assert [e.seq for e in writer.write([started("r1"), completed("r1")])] == [1, 2]
    assert RedisReader(client, PREFIX).get_run("r1").status == "completed"
