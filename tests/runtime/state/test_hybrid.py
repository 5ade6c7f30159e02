"""Hybrid store faults: Redis down, restarted, flushed or missing part of a copy; SQLite stays the truth."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from agentstage.runtime import System
from agentstage.runtime.state.hybrid import HybridWriter
from agentstage.runtime.state.hybrid_reader import HybridReader
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.records import Event, ToolEffect
from agentstage.runtime.state.redis_layout import RedisLayout, connect
from agentstage.runtime.state.sqlite import SQLiteWriter
from tests.redis_server import RedisServer
from tests.runtime.state.conftest import checkpoint, completed, started, state_config, ts

PREFIX = "hybridtest"


class Hybrid:
    def __init__(self, path: Path, url: str) -> None:
        self.client = connect(url, timeout=1.0)
        self.writer = HybridWriter(SQLiteWriter(path), self.client, PREFIX, cooldown=0.05)
        self.reader = HybridReader(SQLiteReader(path), self.client, PREFIX, cooldown=0.05)
        self.layout = RedisLayout(self.client, PREFIX)

    def cached(self, run_id: str) -> str | None:
        return self.client.hget(self.layout.run(run_id), "status")


@pytest.fixture
def hybrid(tmp_path: Path, redis_url: str) -> Iterator[Hybrid]:
    store = Hybrid(tmp_path / "state.db", redis_url)
    yield store
    store.reader.close()
    store.writer.close()
    store.client.close()


@pytest.fixture
def server(redis_server: RedisServer) -> Iterator[RedisServer]:
    """The shared redis-server, left running for the next test whatever this one did to it."""
    yield redis_server
    if redis_server.process is None:
        redis_server.start()


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_reads_of_a_committed_run_come_from_redis(hybrid: Hybrid) -> None:
    hybrid.writer.write([started("r1"), completed("r1"), checkpoint("r1", 1)])
    assert hybrid.writer.drain()
    assert hybrid.cached("r1") == "completed"
    assert hybrid.reader.get_run("r1").status == "completed"
    assert [e.seq for e in hybrid.reader.events("r1")] == [1, 2]
    assert hybrid.reader.checkpoint("r1")["step"] == 1
    assert (hybrid.reader.hits, hybrid.reader.misses) == (3, 0)


def test_a_childs_tokens_reach_the_cached_copy_of_every_ancestor(hybrid: Hybrid) -> None:
    hybrid.writer.write([started("g1", kind="graph"), started("g1.1", parent_run_id="g1"),
                         started("g1.1.1", parent_run_id="g1.1")])
    assert hybrid.writer.drain()
    usage = Event("g1.1.1", 2, "llm.response", ts(2), "s1",
                  {"usage": {"input_tokens": 10, "output_tokens": 5}, "parent_run_id": "g1.1"}, provider="scripted")
    hybrid.writer.write([usage])
    assert hybrid.writer.drain()
    for run_id in ("g1", "g1.1", "g1.1.1"):
        run = hybrid.reader.get_run(run_id)
        assert (run.input_tokens, run.output_tokens) == (10, 5), run_id
    assert hybrid.reader.misses == 0


def test_writes_go_on_while_redis_is_down_and_the_copy_catches_up_when_it_returns(
        hybrid: Hybrid, server: RedisServer) -> None:
    hybrid.writer.write([started("r1")])
    assert hybrid.writer.drain()
    server.kill()
    assert hybrid.writer.write([completed("r1"), started("r2", second=2)]) != []
    assert not hybrid.writer.drain()
    health = hybrid.writer.health()
    assert health.status == "degraded" and health.details["redis_failures"] >= 1
    assert "redis unavailable" in health.reason
    assert hybrid.reader.get_run("r1").status == "completed"
    assert hybrid.reader.get_run("r2").status == "running"
    assert hybrid.reader.health().status == "degraded"
    server.start()
    wait_for(lambda: hybrid.writer.dirty == set())
    assert [hybrid.cached(r) for r in ("r1", "r2")] == ["completed", "running"]
    hybrid.writer.write([started("r3", second=3)])
    assert hybrid.writer.drain()
    assert hybrid.cached("r3") == "running"
    assert hybrid.writer.health().status == "ok"


def test_a_flushed_redis_is_backfilled_by_reads(hybrid: Hybrid, server: RedisServer) -> None:
    hybrid.writer.write([started("r1"), completed("r1"), checkpoint("r1", 1), checkpoint("r1", 2),
                         ToolEffect("r1:1:c1", "r1", "mail", {"sent": True}, ts(2))])
    assert hybrid.writer.drain()
    server.flush()
    assert hybrid.reader.get_run("r1").status == "completed"
    assert [e.seq for e in hybrid.reader.events("r1")] == [1, 2]
    assert hybrid.reader.checkpoint("r1")["step"] == 2
    assert hybrid.reader.tool_effect("r1:1:c1") == (True, {"sent": True})
    assert [m.content for m in hybrid.reader.session_history("s1")] == ["q-r1", "a-r1"]
    misses = hybrid.reader.misses
    assert hybrid.cached("r1") == "completed"
    hybrid.reader.get_run("r1")
    hybrid.reader.events("r1")
    hybrid.reader.checkpoint("r1")
    hybrid.reader.tool_effect("r1:1:c1")
    hybrid.reader.session_history("s1")
    assert hybrid.reader.misses == misses


def test_an_incomplete_copy_is_never_served(hybrid: Hybrid) -> None:
    hybrid.writer.write([started("r1"), Event("r1", 2, "llm.response", ts(2), "s1"), completed("r1", seq=3),
                         checkpoint("r1", 1), checkpoint("r1", 2)])
    assert hybrid.writer.drain()
    hybrid.client.zremrangebyscore(hybrid.layout.events("r1"), 2, 2)
    hybrid.client.zremrangebyscore(hybrid.layout.checkpoints("r1"), 2, 2)
    assert [e.seq for e in hybrid.reader.events("r1")] == [1, 2, 3]
    assert hybrid.reader.checkpoint("r1")["step"] == 2
    assert hybrid.client.zcard(hybrid.layout.events("r1")) == 3
    assert hybrid.client.zcard(hybrid.layout.checkpoints("r1")) == 2


def test_an_older_snapshot_never_replaces_a_newer_one(hybrid: Hybrid) -> None:
    hybrid.writer.write([started("r1")])
    stale = hybrid.reader.sqlite.get_run("r1")
    hybrid.writer.write([completed("r1")])
    assert hybrid.writer.drain()
    row = {f: getattr(stale, f) for f in stale.__dataclass_fields__}
    hybrid.layout.execute(lambda pipe: hybrid.layout.put_run(pipe, row, 1, 1, 0, None, 0))
    assert hybrid.cached("r1") == "completed"


def test_a_system_on_hybrid_state_rides_out_a_redis_restart(tmp_path: Path, redis_url: str,
                                                          server: RedisServer) -> None:
    config = state_config(tmp_path, "hybrid", redis_url, agent_pool_size=1)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    layout = RedisLayout(client, config.stream_prefix)
    with System(config) as system:
        before = system.run("calculate 1 + 1")
        server.kill()
        during = system.run("calculate 2 + 2")
        assert (during.status, system.get_run(during.run_id).status) == ("completed", "completed")
        assert system.reader().health().status == "degraded"
        assert system.health().status == "degraded"
        wait_for(lambda: system.health().details["redis_failures"] >= 1)
        server.start()
        runs = [during.run_id]

        def refilled() -> bool:
            runs.append(system.run("calculate 3 + 3").run_id)
            return all(client.hget(layout.run(r), "status") == "completed" for r in runs)

        wait_for(refilled)
        wait_for(lambda: system.get_run(before.run_id).status == "completed"
                 and client.hget(layout.run(before.run_id), "status") == "completed")
        assert system.reader().health().status == "ok"
        assert system.health().status == "ok"
    assert system.health().status == "down"
    client.close()
