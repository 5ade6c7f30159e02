"""Reconciliation passes over a real SQLite file and an in-memory transport: what Redis lost comes back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentstage.runtime.wire import Requeue, RunOutcome, Task, from_wire, to_wire
from agentstage.runtime.clock import utc_ago, utc_now
from agentstage.runtime.distributed.reconcile import reconcile
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.records import Event, ToolEffect
from agentstage.runtime.state.sqlite import SQLiteWriter
from agentstage.runtime.streams import WORKERS_GROUP, StreamLayout
from agentstage.runtime.transport import MemoryTransport

LAYOUT = StreamLayout("rc")


@pytest.fixture
def store(tmp_path: Path):
    writer = SQLiteWriter(tmp_path / "state.db")
    reader = SQLiteReader(tmp_path / "state.db")
    yield writer, reader
    reader.close()
    writer.close()


@pytest.fixture
def transport() -> MemoryTransport:
    transport = MemoryTransport()
    transport.ensure_group(LAYOUT.tasks, WORKERS_GROUP)
    return transport


def _run(writer: SQLiteWriter, run_id: str, status: str, *, ts: str | None = None, attempt: int = 1,
         data: dict | None = None) -> None:
    ts = ts or utc_now()
    events = [Event(run_id, 1, "run.queued", ts, "s", {"input": "x", "agent": "default", "attempt": attempt,
                                                     **(data or {})})]
    if status != "queued":
        events.append(Event(run_id, 2, "run.started", ts, "s", {"attempt": attempt}))
    if status in ("completed", "failed"):
        events.append(Event(run_id, 3, f"run.{status}", ts, "s", {"output": "done"} if status == "completed" else {},
                            error="boom" if status == "failed" else None))
    writer.write(events)


def _task(run_id: str, attempt: int = 1) -> bytes:
    return to_wire(Task(f"t-{run_id}", run_id, "s", "x", attempt=attempt))


def _apply(transport: MemoryTransport, found) -> None:
    transport.apply(found.batch.ops)


def test_a_task_of_a_run_the_store_holds_as_ended_is_dropped(store, transport) -> None:
    writer, reader = store
    _run(writer, "done-undelivered", "completed")
    _run(writer, "done-delayed", "completed")
    _run(writer, "retried-later", "failed")
    transport.append(LAYOUT.tasks, _task("done-undelivered"))
    transport.apply([("zadd", LAYOUT.delayed, _task("done-delayed"), 1.0),
                     ("zadd", LAYOUT.delayed, _task("retried-later", attempt=2), 1.0)])
    found = reconcile(reader, transport, LAYOUT, None)
    _apply(transport, found)
    assert found.stale_tasks == 2
    assert transport.entries(LAYOUT.tasks) == []
    assert [from_wire(m).run_id for m in transport.members(LAYOUT.delayed)] == ["retried-later"]


def test_a_lost_queued_run_is_failed_and_requeued_and_a_fresh_or_tracked_one_is_not(store, transport) -> None:
    writer, reader = store
    _run(writer, "lost", "queued", ts=utc_ago(60))
    _run(writer, "fresh", "queued")
    _run(writer, "tracked", "queued", ts=utc_ago(60))
    _run(writer, "embedded", "running", ts=utc_ago(600), data={"owner": {"host": "h", "pid": 1, "started": 1.0}})
    _run(writer, "busy-on-a-worker", "running", ts=utc_ago(30))
    transport.append(LAYOUT.tasks, _task("tracked"))
    found = reconcile(reader, transport, LAYOUT, None, settle=10.0, lease=30.0)
    _apply(transport, found)
    assert found.lost_runs == 1
    [failed] = found.batch.records
    assert (failed.run_id, failed.type, failed.seq, failed.data["error_type"]) == ("lost", "run.failed", 2,
                                                                                  "Interrupted")
    [(_, fields)] = transport.entries(LAYOUT.control)
    assert isinstance(message := from_wire(fields[b"m"]), Requeue) and message.run_id == "lost"


def test_a_running_run_counts_as_lost_only_after_two_leases(store, transport) -> None:
    writer, reader = store
    _run(writer, "quiet", "running", ts=utc_ago(90))
    _run(writer, "recent", "running", ts=utc_ago(40))
    found = reconcile(reader, transport, LAYOUT, None, settle=None, lease=30.0)
    assert [r.run_id for r in found.batch.records] == ["quiet"]


def test_recorded_effects_go_back_into_the_journal_without_overwriting_what_redis_kept(store, transport) -> None:
    writer, reader = store
    writer.write([ToolEffect("r1:1:a", "r1", "deploy", {"status": 200}, utc_now()),
                  ToolEffect("r1:1:b", "r1", "deploy", {"status": 201}, utc_now()),
                  ToolEffect("old:1:a", "old", "deploy", {"status": 200}, utc_ago(3 * 24 * 3600))])
    transport.apply([("set", LAYOUT.effect_key("r1:1:b"), b'{"result": "kept by redis"}', None)])
    found = reconcile(reader, transport, LAYOUT, None, restore_since=utc_ago(24 * 3600), retention=3600)
    assert found.restored_effects == 1
    assert json.loads(transport.get(LAYOUT.effect_key("r1:1:a")))["result"] == {"status": 200}
    assert json.loads(transport.get(LAYOUT.effect_key("r1:1:b")))["result"] == "kept by redis"
    assert transport.get(LAYOUT.effect_key("old:1:a")) is None


def test_an_ended_run_without_a_done_key_gets_it_back_and_its_waiters_are_told(store, transport) -> None:
    writer, reader = store
    _run(writer, "no-key", "completed")
    _run(writer, "has-key", "failed")
    transport.apply([("set", LAYOUT.done_key("has-key"), to_wire(RunOutcome("has-key", "failed")), None)])
    found = reconcile(reader, transport, LAYOUT, None, restore_since=utc_ago(3600), server_id="redis-2")
    _apply(transport, found)
    assert found.restored_done_keys == 1
    outcome = from_wire(transport.get(LAYOUT.done_key("no-key")))
    assert (outcome.status, outcome.output) == ("completed", "done")
    assert ("publish", LAYOUT.ended, "no-key") in found.batch.ops
    assert transport.get(LAYOUT.reconciled) == b"redis-2"


def test_a_periodic_pass_restores_nothing(store, transport) -> None:
    writer, reader = store
    _run(writer, "no-key", "completed")
    writer.write([ToolEffect("r1:1:a", "r1", "deploy", {"status": 200}, utc_now())])
    found = reconcile(reader, transport, LAYOUT, None, settle=10.0)
    assert not found.found and found.batch.ops == []


def test_a_child_run_goes_with_its_graphs_task_failed_with_it_never_requeued_alone(store, transport) -> None:
    writer, reader = store
    old = utc_ago(600)
    _run(writer, "lost-graph", "running", ts=old)
    _run(writer, "lost-graph.a.1", "running", ts=old, data={"parent_run_id": "lost-graph"})
    _run(writer, "live-graph", "running", ts=old)
    _run(writer, "live-graph.a.1", "running", ts=old, data={"parent_run_id": "live-graph"})
    transport.append(LAYOUT.tasks, _task("live-graph"))
    found = reconcile(reader, transport, LAYOUT, None, settle=10.0, lease=30.0)
    _apply(transport, found)
    failed = {r.run_id: r.error for r in found.batch.records}
    assert set(failed) == {"lost-graph", "lost-graph.a.1"} and "task of its graph run" in failed["lost-graph.a.1"]
    requeued = [from_wire(fields[b"m"]).run_id for _, fields in transport.entries(LAYOUT.control)]
    assert requeued == ["lost-graph"]
