"""CoordinatorActor with in-process nodes on the suite's redis-server: admission, recording, retries, DLQ."""

from __future__ import annotations

import subprocess
import sys
import time

from loguru import logger

from agentstage.runtime.wire import Task, to_wire
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.streams import COORDINATOR_GROUP
from tests.runtime.distributed.harness import coordinator, distributed_config, peek, queue_kinds, reader, wait_for, worker


def test_run_is_recorded_with_attempt_and_queue_events(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), worker(config), RuntimeOps(config) as ops:
        run_id = ops.enqueue("what is 6 * 7")["run_id"]
        outcome = ops.wait(run_id, 30)
    assert outcome == {"status": "completed", "output": "6 * 7 = 42", "error": None}
    db = reader(config)
    run = db.get_run(run_id)
    assert (run.status, run.worker_id, run.attempt) == ("completed", "w1", 1)
    assert [e.type for e in db.events(run_id)][:2] == ["run.queued", "run.started"]
    [attempt] = db.attempts(run_id)
    assert (attempt["status"], attempt["worker_id"], attempt["task_id"]) == ("completed", "w1", run_id)
    assert queue_kinds(config, run_id) == ["enqueued", "claimed", "acked"]
    assert wait_for(lambda: db.count("worker_heartbeats"))


def test_failing_task_is_retried_with_backoff_then_dead_lettered(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url, task_max_attempts=3)
    with coordinator(config), worker(config), RuntimeOps(config) as ops:
        run_id = ops.enqueue("hello", agent="flaky")["run_id"]
        outcome = ops.wait(run_id, 30)
        [entry] = ops.dlq_list()
    assert outcome["status"] == "failed" and "dead-lettered after 3 attempts" in outcome["error"]
    assert (entry["run_id"], entry["attempts"], entry["reason"]) == (run_id, 3, "max attempts reached")
    assert "upstream unavailable" in entry["last_error"]
    db = reader(config)
    assert [a["status"] for a in db.attempts(run_id)] == ["failed", "failed", "failed"]
    assert queue_kinds(config, run_id).count("retried") == 2
    assert queue_kinds(config, run_id)[-1] == "dead_lettered"
    seqs = [e.seq for e in db.events(run_id)]
    assert seqs == sorted(set(seqs))
    assert db.get_run(run_id).status == "failed"


def test_permanent_failure_is_not_retried(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), worker(config), RuntimeOps(config) as ops:
        run_id = ops.enqueue("hello", agent="no-such-agent")["run_id"]
        outcome = ops.wait(run_id, 30)
        assert ops.dlq_list() == []
    assert outcome["status"] == "failed" and "unknown agent" in outcome["error"]
    assert len(reader(config).attempts(run_id)) == 1


def test_poison_task_goes_to_dlq_and_the_worker_keeps_going(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), worker(config), RuntimeOps(config) as ops:
        ops.client.xadd(ops.layout.tasks, {"m": b'{"type":"task","v":1,"body":{"task_id":7}}'})
        ops.client.xadd(ops.layout.tasks, {"m": b"\xff not json"})
        run_id = ops.enqueue("what is 1 + 1")["run_id"]
        assert ops.wait(run_id, 30)["status"] == "completed"
        entries = wait_for(lambda: len(ops.dlq_list()) == 2 and ops.dlq_list())
        pending = ops.client.xpending(ops.layout.tasks, "workers")["pending"]
    reasons = sorted(e["reason"] for e in entries)
    assert "field 'body.task_id'" in reasons[0] or "field 'body.task_id'" in reasons[1]
    assert any("not JSON" in r for r in reasons)
    assert all(e["stream"] == ops.layout.tasks for e in entries)
    assert pending == 0


def test_requeue_from_dlq_runs_again_as_a_new_attempt(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url, task_max_attempts=1)
    with coordinator(config), worker(config), RuntimeOps(config) as ops:
        run_id = ops.enqueue("hello", agent="flaky")["run_id"]
        assert ops.wait(run_id, 30)["status"] == "failed"
        [entry] = ops.dlq_list()
        ops.dlq_requeue(entry["id"])
        wait_for(lambda: len(reader(config).attempts(run_id)) == 2)
        outcome = ops.wait(run_id, 30)
        assert outcome["status"] == "failed"
        assert [e["id"] for e in ops.dlq_list()] != [entry["id"]]
    assert queue_kinds(config, run_id).count("requeued") == 1


def test_duplicate_task_entry_runs_once(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), worker(config, concurrency=2), RuntimeOps(config) as ops:
        task = Task("dup-task", "dup-run", "s1", "what is 2 + 2", first_seq=1)
        ops.client.xadd(ops.layout.tasks, {"m": to_wire(task)})
        ops.client.xadd(ops.layout.tasks, {"m": to_wire(task)})
        wait_for(lambda: ops.outcome("dup-run"))
        wait_for(lambda: ops.client.xpending(ops.layout.tasks, "workers")["pending"] == 0)
    events = reader(config).events("dup-run")
    assert [e.type for e in events].count("run.started") == 1


def test_graph_run_completes_on_a_worker_with_checkpoints_recorded(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), worker(config), RuntimeOps(config) as ops:
        run_id = ops.enqueue("go", mode="graph", workflow="relay")["run_id"]
        outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "completed", outcome
    assert outcome["output"] == reader(config).get_run(run_id).output
    db = reader(config)
    assert [c["step"] for c in db.checkpoints(run_id)] == [0, 1, 2, 3]
    run = db.get_run(run_id)
    assert (run.kind, run.workflow, run.status, run.worker_id) == ("graph", "relay", "completed", "w1")
    assert run.started_at is not None
    assert db.checkpoint(run_id)["state"]["c"] == {"tallied": "c"}


def test_graph_task_of_unknown_workflow_fails_without_retry(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), worker(config), RuntimeOps(config) as ops:
        run_id = ops.enqueue("go", mode="graph", workflow="nope")["run_id"]
        outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "failed" and "nope" in outcome["error"]


def test_restarted_coordinator_still_retries_a_run_it_did_not_know(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url, task_max_attempts=2)
    with RuntimeOps(config) as ops:
        with coordinator(config):
            run_id = ops.enqueue("hello", agent="flaky")["run_id"]
            wait_for(lambda: queue_kinds(config, run_id) == ["enqueued"])
        with worker(config):
            wait_for(lambda: ops.client.xlen(ops.layout.results) >= 2)
            with coordinator(config):
                outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "failed" and "dead-lettered after 2 attempts" in outcome["error"]
    assert [a["status"] for a in reader(config).attempts(run_id)] == ["failed", "failed"]


def test_admission_is_bounded_by_max_queued(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url, max_queued=2)
    with coordinator(config), RuntimeOps(config) as ops:
        for _ in range(5):
            ops.enqueue("hello")
        wait_for(lambda: ops.client.xlen(ops.layout.tasks) == 2)

        def admit_backlog() -> tuple[int, int]:
            admit = next(q for q in ops.queues() if q["stream"] == ops.layout.admit)
            return admit["lag"], admit["pending"]

        # NOTE: the two tasks go out before their admission is committed and acked, so pending is 2 for a moment
        wait_for(lambda: admit_backlog()[1] == 0)
        assert admit_backlog() == (3, 0)
        assert ops.client.xlen(ops.layout.tasks) == 2, "no run beyond the limit was admitted"
        with worker(config):
            wait_for(lambda: peek(config, lambda db: db.count("runs")) == 5)
            wait_for(lambda: ops.client.xlen(ops.layout.admit) == 0 or
                     next(q for q in ops.queues() if q["stream"] == ops.layout.admit)["lag"] == 0)


LOCKER = """
import sys
import apsw
connection = apsw.Connection(sys.argv[1])
connection.execute("BEGIN IMMEDIATE")
print("LOCKED", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
"""


def test_commit_failing_on_a_lock_held_by_another_process_is_retried_until_it_lands(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url, busy_timeout_ms=200)
    logs: list[str] = []
    logger.enable("agentstage")
    sink = logger.add(lambda m: logs.append(str(m)), level="WARNING")
    try:
        with coordinator(config), worker(config), RuntimeOps(config) as ops:
            locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(config.state_path)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
            try:
                assert locker.stdout is not None and locker.stdout.readline().strip() == "LOCKED"
                run_id = ops.enqueue("what is 2 + 2")["run_id"]
                wait_for(lambda: any("database is locked" in line for line in logs))
            finally:
                locker.communicate("\n", timeout=30)
            outcome = ops.wait(run_id, 60)
    finally:
        logger.remove(sink)
        logger.disable("agentstage")
    assert outcome is not None and outcome["status"] == "completed"
    assert reader(config).get_run(run_id).status == "completed"


def test_a_runs_task_is_published_while_its_admission_still_waits_for_the_store(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url, busy_timeout_ms=200)
    with coordinator(config), RuntimeOps(config) as ops:
        locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(config.state_path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert locker.stdout is not None and locker.stdout.readline().strip() == "LOCKED"
            run_id = ops.enqueue("what is 2 + 2")["run_id"]
            wait_for(lambda: ops.client.xlen(ops.layout.tasks) == 1)
            assert peek(config, lambda db: db.get_run(run_id)) is None, "published before its admission committed"
        finally:
            locker.communicate("\n", timeout=30)
        with worker(config):
            assert ops.wait(run_id, 30)["status"] == "completed"
    types = _types(config, run_id)
    assert (types[0], types[-1], types.count("run.started")) == ("run.queued", "run.completed", 1)


def test_a_replayed_admission_of_a_run_that_already_ran_publishes_nothing(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), worker(config), RuntimeOps(config) as ops:
        run_id = ops.enqueue("what is 6 * 7")["run_id"]
        assert ops.wait(run_id, 30)["status"] == "completed"
    with RuntimeOps(config) as ops:
        published = ops.client.xlen(ops.layout.tasks)
        # NOTE: the admission entry again, pending to the coordinator as if it had died before acking it
        ops.enqueue("what is 6 * 7", run_id=run_id)
        ops.client.xreadgroup(COORDINATOR_GROUP, "coordinator", {ops.layout.admit: ">"}, count=1)
        with coordinator(config):
            wait_for(lambda: next(q for q in ops.queues() if q["stream"] == ops.layout.admit)["pending"] == 0)
            assert ops.client.xlen(ops.layout.tasks) == published
    assert _types(config, run_id).count("run.queued") == 1 and reader(config).get_run(run_id).status == "completed"


def test_a_replayed_admission_of_a_run_cancelled_before_the_restart_ends_it_unpublished(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config):
        pass
    with RuntimeOps(config) as ops:
        run_id = ops.enqueue("what is 6 * 7")["run_id"]
        ops.client.xreadgroup(COORDINATOR_GROUP, "coordinator", {ops.layout.admit: ">"}, count=1)
        ops.cancel(run_id)
        with coordinator(config):
            assert ops.wait(run_id, 30)["status"] == "cancelled"
        assert ops.client.xlen(ops.layout.tasks) == 0


def _types(config, run_id):
    return [e.type for e in reader(config).events(run_id)]


def test_a_worker_that_starts_right_after_a_run_found_none_serves_the_next_run_without_unserved(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), RuntimeOps(config) as ops:
        early = ops.enqueue("what is 1 + 1")["run_id"]
        wait_for(lambda: len(reader(config).events(early)) >= 2)
        with worker(config):
            wait_for(ops.workers)
            time.sleep(0.2)
            late = ops.enqueue("what is 2 + 2")["run_id"]
            assert ops.wait(late, 30)["status"] == "completed"
            assert ops.wait(early, 30)["status"] == "completed"
    assert _types(config, early)[:2] == ["run.queued", "run.unserved"]
    assert "run.unserved" not in _types(config, late)
