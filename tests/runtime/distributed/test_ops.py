"""RuntimeOps against the suite's redis-server: queue figures, lost workers, validation."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest

from agentstage.runtime.wire import RunOutcome, from_wire, to_wire
from agentstage.runtime.errors import NotFound, RunAborted
from agentstage.runtime.distributed.ops import RuntimeOps
from tests.runtime.distributed.harness import coordinator, distributed_config, reader, wait_for, worker


def test_queues_show_tasks_waiting_for_a_worker(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), RuntimeOps(config) as ops:
        for _ in range(3):
            ops.enqueue("hello")
        tasks = wait_for(lambda: next(q for q in ops.queues() if q["stream"] == ops.layout.tasks)["lag"] == 3
                         and next(q for q in ops.queues() if q["stream"] == ops.layout.tasks))
    assert (tasks["length"], tasks["pending"], tasks["lag"]) == (3, 0, 3)
    assert tasks["oldest_age_s"] is not None and tasks["oldest_age_s"] >= 0


def _beat(ops, worker_id, seconds_ago, status="running"):
    last_seen = datetime.fromtimestamp(time.time() - seconds_ago, UTC).isoformat(timespec="milliseconds")
    ops.client.hset(ops.layout.workers, worker_id, json.dumps({
        "worker_id": worker_id, "host": "h", "pid": 1, "started_at": "2020-01-01T00:00:00.000Z",
        "last_seen": last_seen.replace("+00:00", "Z"), "in_flight": 2, "concurrency": 4, "status": status,
        "interval": 5}))


def test_worker_without_recent_heartbeat_is_lost_then_only_in_history(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with RuntimeOps(config) as ops:
        _beat(ops, "fresh", 1)
        _beat(ops, "silent", 60)
        _beat(ops, "gone", 3600)
        _beat(ops, "stopped", 1, status="stopped")
        live = {row["worker_id"]: (row["status"], row["alive"]) for row in ops.workers()}
        history = {row["worker_id"]: row["status"] for row in ops.workers(history=True)}
    assert live == {"fresh": ("running", True), "silent": ("lost", False)}
    assert history == {"fresh": "running", "silent": "lost", "gone": "lost", "stopped": "stopped"}


def test_bad_requests_are_refused_with_the_reason(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with RuntimeOps(config) as ops:
        with pytest.raises(RunAborted):
            ops.enqueue("   ")
        with pytest.raises(ValueError, match="workflow"):
            ops.enqueue("x", mode="graph")
        with pytest.raises(ValueError, match="mode"):
            ops.enqueue("x", mode="batch")
        with pytest.raises(NotFound):
            ops.dlq_show("not-an-id")
        ops.client.set(ops.layout.done_key("r1"), json.dumps({"status": "completed", "output": "", "error": None}))
        with pytest.raises(NotFound, match="already completed"):
            ops.cancel("r1")


def test_a_batch_of_runs_is_admitted_in_order_and_each_runs_once(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    inputs = [f"calculate {i} + 1" for i in range(1_500)]
    with coordinator(config), worker(config, concurrency=64), RuntimeOps(config) as ops:
        admitted = ops.enqueue_many(inputs)
        entries = ops.client.xrange(ops.layout.admit)
        outcomes = [ops.wait(a["run_id"], 60) for a in admitted]
    assert [from_wire(fields[b"m"]).input for _, fields in entries] == inputs
    assert len({a["run_id"] for a in admitted}) == len({a["session_id"] for a in admitted}) == 1_500
    assert [o["output"] for o in outcomes] == [f"{i} + 1 = {i + 1}" for i in range(1_500)]
    assert len(reader(config).list_runs(status="completed", limit=2_000).items) == 1_500


def test_a_batch_with_an_empty_input_or_too_many_runs_is_refused_whole(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with RuntimeOps(config) as ops:
        with pytest.raises(RunAborted, match="run aborted: input 2: the input is empty"):
            ops.enqueue_many(["one", "two", "  ", "four"])
        with pytest.raises(ValueError, match="at most 10000 runs per enqueue_many call, not 10001"):
            ops.enqueue_many(["x"] * 10_001)
        assert ops.client.xlen(ops.layout.admit) == 0
        assert ops.enqueue_many([]) == []


def test_wait_wakes_on_the_ended_notice_and_ignores_other_runs(tmp_path, redis_url):
    """`wait` sleeps on the ended channel: a notice for another run or before the done key exists ends nothing."""
    config = distributed_config(tmp_path, redis_url)
    with RuntimeOps(config) as ops:
        layout = ops.layout

        def finish() -> None:
            time.sleep(0.3)
            ops.client.publish(layout.ended, "some-other-run")
            ops.client.publish(layout.ended, "the-run")
            time.sleep(0.3)
            ops.client.set(layout.done_key("the-run"), to_wire(RunOutcome("the-run", "completed", "ok")))
            ops.client.publish(layout.ended, "the-run")

        thread = threading.Thread(target=finish)
        thread.start()
        outcome = ops.wait("the-run", 30)
        thread.join()
        assert outcome["status"] == "completed" and outcome["output"] == "ok"
        assert ops.wait("never-ends", 0.2) is None
