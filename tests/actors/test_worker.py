"""WorkerActor and WorkerNode in-process: cancellation at step boundaries, never-started cancels, drain."""

from __future__ import annotations

from agentstage.runtime.distributed.ops import RuntimeOps
from tests.runtime.distributed.harness import coordinator, distributed_config, peek, queue_kinds, reader, wait_for, worker


def _status(config, run_id):
    row = peek(config, lambda db: db.get_run(run_id))
    return None if row is None else row.status


def test_cancel_stops_a_running_run_at_the_next_step(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), worker(config), RuntimeOps(config) as ops:
        run_id = ops.enqueue("nap 100", agent="slow")["run_id"]
        wait_for(lambda: _status(config, run_id) == "running")
        ops.cancel(run_id, "no longer needed")
        outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "cancelled"
    types = [e.type for e in reader(config).events(run_id)]
    assert types[-1] == "run.cancelled"
    assert types.count("tool.call") < 50
    assert "cancelled" in queue_kinds(config, run_id)


def test_cancelled_queued_task_is_never_started(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), RuntimeOps(config) as ops:
        run_id = ops.enqueue("what is 2 + 2")["run_id"]
        wait_for(lambda: _status(config, run_id) == "queued")
        ops.cancel(run_id)
        with worker(config):
            outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "cancelled"
    types = [e.type for e in reader(config).events(run_id)]
    assert "run.started" not in types and types[-1] == "run.cancelled"


def test_cancelled_run_can_be_requeued(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), RuntimeOps(config) as ops:
        run_id = ops.enqueue("what is 3 + 4")["run_id"]
        ops.cancel(run_id)
        with worker(config):
            assert ops.wait(run_id, 30)["status"] == "cancelled"
            assert ops.requeue(run_id, wait=30)["attempt"] == 2
            wait_for(lambda: ops.outcome(run_id))
            outcome = ops.outcome(run_id)
    assert outcome == {"status": "completed", "output": "3 + 4 = 7", "error": None}
    db = reader(config)
    assert db.get_run(run_id).attempt == 2
    assert [a["status"] for a in db.attempts(run_id)] == ["cancelled", "completed"]



def test_a_run_cancelled_before_its_admission_ends_cancelled_unpublished_and_requeues_as_attempt_2(tmp_path, redis_url):
    import redis

    from agentstage.runtime.clock import new_id
    from agentstage.runtime.streams import StreamLayout

    config = distributed_config(tmp_path, redis_url)
    tasks = StreamLayout(config.stream_prefix).tasks
    client = redis.Redis.from_url(redis_url)
    with coordinator(config), RuntimeOps(config) as ops:
        run_id = new_id()
        ops.cancel(run_id)
        wait_for(lambda: "cancelled" in queue_kinds(config, run_id))
        ops.enqueue("what is 3 + 4", run_id=run_id)
        assert ops.wait(run_id, 30)["status"] == "cancelled"
        assert client.xlen(tasks) == 0
        with worker(config):
            assert ops.requeue(run_id, wait=30)["attempt"] == 2
            assert ops.wait(run_id, 30)["status"] == "completed"
    assert [a["status"] for a in reader(config).attempts(run_id)] == ["cancelled", "completed"]

def test_drain_releases_unfinished_task_to_another_worker(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), RuntimeOps(config) as ops:
        with worker(config, "w1") as first:
            run_id = ops.enqueue("tally drained 1500", agent="tally")["run_id"]
            wait_for(lambda: _status(config, run_id) == "running")
            assert first.drain(0.1) == 1
        with worker(config, "w2"):
            outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "completed"
    attempts = reader(config).attempts(run_id)
    assert [(a["worker_id"], a["status"]) for a in attempts] == [("w1", "failed"), ("w2", "completed")]
    assert "worker shut down" in attempts[0]["error"]


def test_heartbeat_lists_the_worker(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), RuntimeOps(config) as ops:
        with worker(config, "w9", concurrency=3):
            [row] = wait_for(ops.workers)
            assert (row["worker_id"], row["concurrency"], row["alive"]) == ("w9", 3, True)
        assert ops.workers() == []
        [row] = ops.workers(history=True)
    assert (row["status"], row["alive"]) == ("stopped", False)


def test_poison_task_entries_are_dead_lettered_and_the_worker_keeps_working(tmp_path, redis_url):
    import redis

    from agentstage.runtime.streams import StreamLayout

    config = distributed_config(tmp_path, redis_url)
    layout = StreamLayout(config.stream_prefix)
    client = redis.Redis.from_url(redis_url)
    with coordinator(config), worker(config) as node, RuntimeOps(config) as ops:
        client.xadd(layout.tasks, {"m": b"[" * 100_000 + b"]" * 100_000})
        client.xadd(layout.tasks, {"m": b""})
        client.xadd(layout.tasks, {"note": b"no m field"})
        dead = wait_for(lambda: len(client.xrange(layout.dlq)) == 3 and client.xrange(layout.dlq))
        run_id = ops.enqueue("what is 2 + 2")["run_id"]
        outcome = ops.wait(run_id, 30)
        assert node.reader.is_alive()
    assert outcome["status"] == "completed"
    assert [fields[b"stream"].decode() for _, fields in dead] == [layout.tasks] * 3
    assert "nested too deeply" in dead[0][1][b"reason"].decode()
    assert client.xpending(layout.tasks, "workers")["pending"] == 0
