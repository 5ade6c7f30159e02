"""Coordinator and worker logic on one MemoryTransport: admission, recording, retries, DLQ, cancels, leases.

The same nodes as in production, sharing an in-process transport instead of redis-server, so
the scheduling logic is checked in milliseconds; the Redis and real-process suites stay the proof.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from agentstage.runtime.wire import RunOutcome, Task, TaskDone, TaskRecords, to_wire
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.state.records import Event, ToolEffect
from agentstage.runtime.transport import MemoryTransport
from tests.runtime.distributed.harness import (
    coordinator,
    distributed_config,
    peek,
    queue_kinds,
    reader,
    wait_for,
    worker,
)

_NOWHERE = "redis://127.0.0.1:9/0"


@pytest.fixture
def transport() -> MemoryTransport:
    return MemoryTransport()


@pytest.fixture
def config(tmp_path):
    return distributed_config(tmp_path, _NOWHERE)


@pytest.fixture
def ops(config, transport) -> Iterator[RuntimeOps]:
    with RuntimeOps(config, transport) as found:
        yield found


def _status(config, run_id):
    row = peek(config, lambda db: db.get_run(run_id))
    return None if row is None else row.status


def test_run_is_recorded_with_attempt_and_queue_events(config, transport, ops):
    with coordinator(config, transport), worker(config, transport=transport):
        run_id = ops.enqueue("what is 6 * 7")["run_id"]
        outcome = ops.wait(run_id, 30)
    assert outcome == {"status": "completed", "output": "6 * 7 = 42", "error": None}
    db = reader(config)
    assert (db.get_run(run_id).status, db.get_run(run_id).worker_id) == ("completed", "w1")
    assert [(a["status"], a["task_id"]) for a in db.attempts(run_id)] == [("completed", run_id)]
    assert queue_kinds(config, run_id) == ["enqueued", "claimed", "acked"]
    assert transport.group_info(ops.layout.tasks, "workers").pending == 0


def test_transient_failure_is_retried_then_dead_lettered(tmp_path, transport):
    config = distributed_config(tmp_path, _NOWHERE, task_max_attempts=3)
    with coordinator(config, transport), worker(config, transport=transport), RuntimeOps(config, transport) as ops:
        run_id = ops.enqueue("hello", agent="flaky")["run_id"]
        outcome = ops.wait(run_id, 30)
        [entry] = ops.dlq_list()
    assert "dead-lettered after 3 attempts" in outcome["error"]
    assert (entry["run_id"], entry["attempts"], entry["reason"]) == (run_id, 3, "max attempts reached")
    assert [a["status"] for a in reader(config).attempts(run_id)] == ["failed"] * 3
    assert queue_kinds(config, run_id)[-1] == "dead_lettered"


def test_permanent_failure_is_not_retried(config, transport, ops):
    with coordinator(config, transport), worker(config, transport=transport):
        run_id = ops.enqueue("hello", agent="no-such-agent")["run_id"]
        outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "failed" and "unknown agent" in outcome["error"]
    assert len(reader(config).attempts(run_id)) == 1 and ops.dlq_list() == []


def test_cancelled_queued_task_is_never_started(config, transport, ops):
    with coordinator(config, transport):
        run_id = ops.enqueue("what is 2 + 2")["run_id"]
        wait_for(lambda: _status(config, run_id) == "queued")
        ops.cancel(run_id)
        with worker(config, transport=transport):
            outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "cancelled"
    types = [e.type for e in reader(config).events(run_id)]
    assert "run.started" not in types and types[-1] == "run.cancelled"


def test_cancel_stops_a_running_run_at_the_next_step(config, transport, ops):
    with coordinator(config, transport), worker(config, transport=transport):
        run_id = ops.enqueue("nap 100", agent="slow")["run_id"]
        wait_for(lambda: _status(config, run_id) == "running")
        ops.cancel(run_id, "no longer needed")
        outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "cancelled"
    assert [e.type for e in reader(config).events(run_id)][-1] == "run.cancelled"


def test_lease_of_a_silent_worker_expires_and_another_worker_completes_the_run(config, transport, ops):
    with coordinator(config, transport):
        with worker(config, "w1", transport=transport) as first:
            run_id = ops.enqueue("nap 1500", agent="napper")["run_id"]
            wait_for(lambda: _status(config, run_id) == "running")
            # NOTE: as a crash would: the worker stops claiming, extending its lease and reporting back.
            first.reader.stop()
            first.monitor.stop("lost")
            first.state.abandon(run_id, 1)
            with worker(config, "w2", transport=transport):
                outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "completed"
    attempts = reader(config).attempts(run_id)
    assert [(a["worker_id"], a["status"]) for a in attempts][-1] == ("w2", "completed")
    assert "lease expired" in attempts[0]["error"]


def test_a_worker_that_lost_a_lease_runs_the_retry_once_its_old_attempt_stopped(config, transport, ops):
    with coordinator(config, transport), worker(config, "w1", transport=transport) as node:
        run_id = ops.enqueue("nap 300", agent="napper")["run_id"]
        wait_for(lambda: _status(config, run_id) == "running")
        node.state.abandon(run_id, 1)
        outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "completed"
    attempts = reader(config).attempts(run_id)
    assert [(a["worker_id"], a["status"]) for a in attempts][-1] == ("w1", "completed")
    assert "lease expired" in attempts[0]["error"]


def test_drain_releases_unfinished_task_to_another_worker(config, transport, ops):
    with coordinator(config, transport):
        with worker(config, "w1", transport=transport) as first:
            run_id = ops.enqueue("nap 1500", agent="napper")["run_id"]
            wait_for(lambda: _status(config, run_id) == "running")
            assert first.drain(0.1) == 1
        with worker(config, "w2", transport=transport):
            outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "completed"
    attempts = reader(config).attempts(run_id)
    assert [(a["worker_id"], a["status"]) for a in attempts] == [("w1", "failed"), ("w2", "completed")]


def test_duplicate_task_entry_runs_once_and_poison_goes_to_the_dlq(config, transport, ops):
    with coordinator(config, transport), worker(config, concurrency=2, transport=transport):
        task = to_wire(Task("dup-task", "dup-run", "s1", "what is 2 + 2"))
        transport.append(ops.layout.tasks, task)
        transport.append(ops.layout.tasks, task)
        transport.append(ops.layout.tasks, b"\xff not json")
        wait_for(lambda: ops.outcome("dup-run"))
        [dead] = wait_for(ops.dlq_list)
        wait_for(lambda: transport.group_info(ops.layout.tasks, "workers").pending == 0)
    assert [e.type for e in reader(config).events("dup-run")].count("run.started") == 1
    assert "not JSON" in dead["reason"]


def test_graph_run_completes_with_checkpoints_recorded(config, transport, ops):
    with coordinator(config, transport), worker(config, transport=transport):
        run_id = ops.enqueue("go", mode="graph", workflow="relay")["run_id"]
        outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "completed", outcome
    assert [c["step"] for c in reader(config).checkpoints(run_id)] == [0, 1, 2, 3]


def test_requeue_of_a_cancelled_run_runs_it_again_and_a_refusal_says_why(config, transport, ops):
    with coordinator(config, transport):
        run_id = ops.enqueue("what is 3 + 4")["run_id"]
        ops.cancel(run_id)
        with worker(config, transport=transport):
            assert ops.wait(run_id, 30)["status"] == "cancelled"
            assert ops.requeue(run_id, wait=30)["attempt"] == 2
            wait_for(lambda: ops.outcome(run_id))
            with pytest.raises(Exception, match="only failed or cancelled"):
                ops.requeue(run_id, wait=30)
    assert ops.outcome(run_id) == {"status": "completed", "output": "3 + 4 = 7", "error": None}


def test_a_run_cancelled_while_queued_and_requeued_runs_only_its_new_attempt(config, transport, ops):
    with coordinator(config, transport):
        run_id = ops.enqueue("what is 3 + 4")["run_id"]
        wait_for(lambda: _status(config, run_id) == "queued")
        ops.cancel(run_id)
        assert ops.wait(run_id, 30)["status"] == "cancelled"
        assert ops.requeue(run_id, wait=30)["attempt"] == 2
        with worker(config, transport=transport):
            wait_for(lambda: (ops.outcome(run_id) or {}).get("status") == "completed")
            wait_for(lambda: transport.group_info(ops.layout.tasks, "workers").pending == 0)
    db = reader(config)
    assert db.get_run(run_id).attempt == 2
    assert [a["status"] for a in db.attempts(run_id)] == ["cancelled", "completed"]
    assert [e.type for e in db.events(run_id)].count("run.started") == 1


def test_heartbeat_row_says_what_the_worker_serves_and_stays_in_history_once_stopped(config, transport, ops):
    with worker(config, "w9", concurrency=3, transport=transport):
        [row] = wait_for(ops.workers)
        assert (row["worker_id"], row["concurrency"], row["alive"]) == ("w9", 3, True)
        assert {"slow", "tally", "flaky"} <= set(row["agents"]) and "relay" in row["workflows"]
    assert ops.workers() == []
    [row] = ops.workers(history=True)
    assert (row["status"], row["alive"]) == ("stopped", False)


def test_outage_of_the_transport_is_waited_out(config, transport, ops):
    with coordinator(config, transport), worker(config, transport=transport):
        first = ops.enqueue("what is 1 + 1")["run_id"]
        assert ops.wait(first, 30)["status"] == "completed"
        transport.available = False
        time.sleep(0.5)
        transport.available = True
        run_id = ops.enqueue("what is 2 + 2")["run_id"]
        outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "completed"


def _endings(config, run_id):
    return [e.type for e in reader(config).events(run_id) if e.type in ("run.completed", "run.failed",
                                                                               "run.cancelled")]


def test_a_retry_claimed_by_the_worker_still_running_the_lost_attempt_supersedes_it(config, transport, ops):
    with coordinator(config, transport), worker(config, "w1", transport=transport) as node:
        run_id = ops.enqueue("tally once 3000", agent="tally")["run_id"]
        wait_for(lambda: [e for e in reader(config).events(run_id) if e.type == "tool.call"])
        # NOTE: as a paused process would: no lease extension, while the tool call goes on and the reader claims.
        node.monitor.stop("lost")
        outcome = ops.wait(run_id, 30)
        wait_for(lambda: not node.state.cancelled and not node.state.running)
    assert outcome["status"] == "completed"
    assert _endings(config, run_id) == ["run.completed"]
    attempts = reader(config).attempts(run_id)
    assert [(a["worker_id"], a["status"]) for a in attempts] == [("w1", "failed"), ("w1", "completed")]
    results = [e.data for e in reader(config).events(run_id) if e.type == "tool.result"]
    assert len(results) == 1 and (results[0]["replayed"] is True)


def test_records_and_outcomes_of_a_superseded_attempt_are_refused_but_its_effects_kept(config, transport, ops):
    with coordinator(config, transport), worker(config, transport=transport):
        run_id = ops.enqueue("what is 2 + 2")["run_id"]
        assert ops.wait(run_id, 30)["status"] == "completed"
        late = Event(run_id, 90, "run.cancelled", "2026-01-01T00:00:00.000Z", "s1")
        effect = ToolEffect(f"{run_id}:1:call-1", run_id, "tally", {"tallied": "late"}, "2026-01-01T00:00:00.000Z")
        transport.append(ops.layout.results, to_wire(TaskRecords(run_id, run_id, 1, "w9", (late,), (effect,))))
        transport.append(ops.layout.results, to_wire(TaskDone(run_id, run_id, 1, "w9", "0-1",
                                                              RunOutcome(run_id, "cancelled"), (late,))))
        wait_for(lambda: reader(config).tool_effect(effect.key)[0])
        time.sleep(0.3)
        assert ops.outcome(run_id)["status"] == "completed"
    db = reader(config)
    assert db.get_run(run_id).status == "completed" and _endings(config, run_id) == ["run.completed"]
    assert [a["status"] for a in db.attempts(run_id)] == ["completed"]


def test_a_graph_node_s_agent_run_started_again_by_a_retry_takes_fresh_attempt_and_event_numbers(config, transport,
                                                                                                 ops):
    with coordinator(config, transport):
        with worker(config, "w1", transport=transport) as first:
            run_id = ops.enqueue("4000", mode="graph", workflow="delegate")["run_id"]
            child = f"{run_id}.1"
            wait_for(lambda: [e for e in reader(config).events(child) if e.type == "tool.call"])
            # NOTE: as a paused worker: its lease is not extended and it claims nothing; its records come late.
            first.reader.stop()
            first.monitor.stop("lost")
            wait_for(lambda: [a["status"] for a in reader(config).attempts(run_id)] == ["failed"])
            with worker(config, "w2", transport=transport):
                outcome = ops.wait(run_id, 30)
    assert outcome["status"] == "completed", outcome
    events = reader(config).events(child)
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))
    assert [e.data["attempt"] for e in events if e.type == "run.started"] == [1, 2]
    assert [e.type for e in events].count("tool.call") == 2
    assert [e.type for e in events][-1] == "run.completed"
    assert reader(config).get_run(child).attempt == 2
    assert [e.type for e in reader(config).events(run_id)].count("run.completed") == 1
