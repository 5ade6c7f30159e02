"""Reaper against a real redis-server: missing groups at start, poison entries in reclaimed leases."""

from __future__ import annotations

import redis

from agentstage.runtime.wire import Task, to_wire
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.streams import WORKERS_GROUP, StreamLayout, ensure_group
from tests.runtime.distributed.harness import coordinator, distributed_config, wait_for, worker


def _groups(client: redis.Redis, stream: str) -> set[str]:
    try:
        return {g["name"].decode() for g in client.xinfo_groups(stream)}
    except redis.ResponseError:
        return set()


def test_coordinator_started_before_any_worker_creates_the_group_and_reaps(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    layout = StreamLayout(config.stream_prefix)
    client = redis.Redis.from_url(redis_url)
    with coordinator(config) as node:
        wait_for(lambda: WORKERS_GROUP in _groups(client, layout.tasks))
        client.xadd(layout.tasks, {"m": b"junk"})
        client.xreadgroup(WORKERS_GROUP, "ghost", {layout.tasks: ">"}, count=10)
        wait_for(lambda: client.xrange(layout.dlq))
        assert node.coordinator.restarts == 0


def test_poison_in_an_expired_lease_is_dead_lettered_once_and_the_coordinator_lives(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    layout = StreamLayout(config.stream_prefix)
    client = redis.Redis.from_url(redis_url)
    ensure_group(client, layout.tasks, WORKERS_GROUP)
    poison = [b"[" * 100_000 + b"]" * 100_000, b"", to_wire(Task("t", "r", "s", "x"))[:-3]]
    for payload in poison:
        client.xadd(layout.tasks, {"m": payload})
    client.xadd(layout.tasks, {"note": b"no m"})
    client.xreadgroup(WORKERS_GROUP, "ghost", {layout.tasks: ">"}, count=10)
    with coordinator(config) as node, RuntimeOps(config) as ops:
        dead = wait_for(lambda: len(client.xrange(layout.dlq)) >= 4 and client.xrange(layout.dlq))
        with worker(config):
            run_id = ops.enqueue("what is 2 + 2")["run_id"]
            outcome = ops.wait(run_id, 30)
        assert node.coordinator.restarts == 0
    assert outcome["status"] == "completed"
    assert len(client.xrange(layout.dlq)) == 4
    reasons = [fields[b"reason"].decode() for _, fields in dead]
    assert "nested too deeply" in reasons[0] and "missing or empty" in reasons[1]
    assert "not JSON" in reasons[2] and "missing or empty" in reasons[3]
    assert client.xpending(layout.tasks, WORKERS_GROUP)["pending"] == 0
