"""The store contract, run against every backend (sqlite, redis, hybrid) so they cannot drift."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agentstage.runtime.errors import NotFound
from agentstage.runtime.state.base import StoreReader, StoreWriter
from agentstage.runtime.state.factory import StateBackend
from agentstage.runtime.state.records import (
    ApiKey,
    AuditEntry,
    EffectIntent,
    Event,
    QueueEvent,
    RunAttempt,
    ToolEffect,
    WorkerHeartbeat,
)
from tests.runtime.state.conftest import checkpoint, completed, started, ts


class Store:
    def __init__(self, writer: StoreWriter, reader: StoreReader) -> None:
        self.writer, self.reader = writer, reader


@pytest.fixture
def store(backend: StateBackend) -> Iterator[Store]:
    writer = backend.writer()
    reader = backend.reader()
    yield Store(writer, reader)
    reader.close()
    writer.close()


def llm(run_id: str, seq: int, tokens: tuple[int, int], session: str = "s1") -> Event:
    return Event(run_id, seq, "llm.response", ts(seq), session,
                 {"usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]}}, provider="scripted")


def test_backends_satisfy_the_interface(store: Store) -> None:
    assert isinstance(store.writer, StoreWriter)
    assert isinstance(store.reader, StoreReader)
    assert store.writer.health().status == "ok"
    assert store.reader.health().status == "ok"


def test_a_replayed_batch_is_a_no_op(store: Store) -> None:
    batch = [started("r1"), llm("r1", 2, (10, 5)), checkpoint("r1", 1), ToolEffect("r1:1:c1", "r1", "t", {"v": 1}, ts(3)),
             QueueEvent("task1", 1, "enqueued", ts(1), "r1")]
    assert [e.seq for e in store.writer.write(batch)] == [1, 2]
    assert store.writer.write(batch) == []
    run = store.reader.get_run("r1")
    assert (run.input_tokens, run.output_tokens) == (10, 5)
    assert [e.seq for e in store.reader.events("r1")] == [1, 2]
    assert len(store.reader.checkpoints("r1")) == 1
    assert len(store.reader.queue_events("task1")) == 1


def test_a_child_runs_tokens_count_for_its_parent_once(store: Store) -> None:
    def child_llm(seq: int, tokens: tuple[int, int]) -> Event:
        event = llm("g1.1", seq, tokens)
        return Event(event.run_id, event.seq, event.type, event.ts, event.session_id,
                     {**event.data, "parent_run_id": "g1"}, provider="scripted")

    store.writer.write([started("g1", kind="graph"), llm("g1", 2, (1, 1))])
    batch = [started("g1.1", parent_run_id="g1"), child_llm(2, (10, 5))]
    store.writer.write(batch)
    store.writer.write(batch)
    store.writer.write([child_llm(3, (4, 2))])
    parent, child = store.reader.get_run("g1"), store.reader.get_run("g1.1")
    assert (child.input_tokens, child.output_tokens) == (14, 7)
    assert (parent.input_tokens, parent.output_tokens) == (15, 8)


def test_a_grandchild_runs_tokens_count_for_every_ancestor_once(store: Store) -> None:
    def usage(run_id: str, parent: str, seq: int, tokens: tuple[int, int]) -> Event:
        event = llm(run_id, seq, tokens)
        return Event(run_id, seq, event.type, event.ts, "s1", {**event.data, "parent_run_id": parent},
                     provider="scripted")

    store.writer.write([started("g3", kind="graph"), started("g3.1", parent_run_id="g3")])
    store.writer.write([started("g3.1.bob.x", parent_run_id="g3.1"), usage("g3.1.bob.x", "g3.1", 2, (7, 3))])
    batch = [usage("g3.1", "g3", 2, (10, 5)), usage("g3.1.bob.x", "g3.1", 3, (1, 1))]
    store.writer.write(batch)
    store.writer.write(batch)
    tokens = {run: (r.input_tokens, r.output_tokens) for run in ("g3", "g3.1", "g3.1.bob.x")
              for r in [store.reader.get_run(run)]}
    assert tokens == {"g3.1.bob.x": (8, 4), "g3.1": (18, 9), "g3": (18, 9)}


def test_tokens_reported_by_failed_calls_count_for_the_run_and_its_parent(store: Store) -> None:
    def failed(seq: int, kind: str, data: dict) -> Event:
        return Event("g2.1", seq, kind, ts(seq), "s1", {"parent_run_id": "g2", **data}, provider="scripted")

    store.writer.write([started("g2", kind="graph"), started("g2.1", parent_run_id="g2"),
                        failed(2, "llm.retry", {"attempt": 1, "usage": {"input_tokens": 11, "output_tokens": 4}}),
                        failed(3, "llm.retry", {"attempt": 2}),
                        failed(4, "llm.error", {"status": None, "usage": {"input_tokens": 5, "output_tokens": 1}})])
    parent, child = store.reader.get_run("g2"), store.reader.get_run("g2.1")
    assert (child.input_tokens, child.output_tokens) == (16, 5)
    assert (parent.input_tokens, parent.output_tokens) == (16, 5)


def test_a_batch_reports_only_events_new_within_it(store: Store) -> None:
    fresh = store.writer.write([started("r1"), started("r1"), completed("r1")])
    assert [e.seq for e in fresh] == [1, 2]


def test_the_run_projection_follows_its_events(store: Store) -> None:
    store.writer.write([started("r1", metadata={"k": "v"}), llm("r1", 2, (7, 3)), llm("r1", 3, (1, 1))])
    run = store.reader.get_run("r1")
    assert (run.status, run.started_at, run.ended_at, run.metadata) == ("running", ts(0), None, {"k": "v"})
    assert run.total_tokens == 12
    store.writer.write([Event("r1", 4, "run.completed", ts(9), "s1", {"output": "done"})])
    run = store.reader.get_run("r1")
    assert (run.status, run.output, run.ended_at, run.last_seq) == ("completed", "done", ts(9), 4)


def test_a_late_older_status_event_does_not_move_the_run(store: Store) -> None:
    store.writer.write([started("r1"), Event("r1", 5, "run.failed", ts(5), "s1", error="boom")])
    store.writer.write([Event("r1", 3, "run.waiting", ts(3), "s1")])
    run = store.reader.get_run("r1")
    assert (run.status, run.error, run.last_seq) == ("failed", "boom", 5)


def test_a_new_attempt_reopens_a_failed_run(store: Store) -> None:
    store.writer.write([started("r1"), Event("r1", 2, "run.failed", ts(2), "s1", error="boom")])
    store.writer.write([started("r1", seq=3, second=3, attempt=2)])
    run = store.reader.get_run("r1")
    assert (run.status, run.error, run.ended_at, run.attempt, run.started_at) == ("running", None, None, 2, ts(0))


def test_events_of_a_missing_run_are_kept_without_a_run_row(store: Store) -> None:
    store.writer.write([llm("ghost", 1, (1, 1))])
    with pytest.raises(NotFound):
        store.reader.get_run("ghost")
    assert [e.type for e in store.reader.events("ghost")] == ["llm.response"]


def test_events_after_a_seq_with_a_limit(store: Store) -> None:
    store.writer.write([started("r1"), *(llm("r1", seq, (1, 0)) for seq in range(2, 8))])
    events = store.reader.events("r1", after_seq=2, limit=3)
    assert [e.seq for e in events] == [3, 4, 5]
    assert events[0] == Event("r1", 3, "llm.response", ts(3), "s1", {"usage": {"input_tokens": 1, "output_tokens": 0}},
                              provider="scripted")


def seven_runs(store: Store) -> None:
    records: list[Any] = []
    for i in range(7):
        session = "even" if i % 2 == 0 else "odd"
        records.append(started(f"r{i}", session=session, second=i))
        if i != 6:
            records.append(completed(f"r{i}", session=session, second=i))
    store.writer.write(records)


def test_keyset_pages_cover_every_run_once_newest_first(store: Store) -> None:
    seven_runs(store)
    seen, cursor = [], None
    while True:
        page = store.reader.list_runs(limit=3, cursor=cursor)
        seen += [row.run_id for row in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"r{i}" for i in range(6, -1, -1)]


def test_runs_filter_by_status_session_and_time(store: Store) -> None:
    seven_runs(store)
    assert [r.run_id for r in store.reader.list_runs(status="running").items] == ["r6"]
    assert [r.run_id for r in store.reader.list_runs(session_id="odd").items] == ["r5", "r3", "r1"]
    assert [r.run_id for r in store.reader.list_runs(status="completed", session_id="even", limit=1).items] == ["r4"]
    assert [r.run_id for r in store.reader.list_runs(since=ts(2), until=ts(5)).items] == ["r4", "r3", "r2"]
    page = store.reader.list_runs(session_id="even", limit=2)
    assert [r.run_id for r in store.reader.list_runs(session_id="even", cursor=page.next_cursor).items] == ["r2", "r0"]


def test_a_malformed_cursor_is_a_value_error(store: Store) -> None:
    with pytest.raises(ValueError, match="cursor"):
        store.reader.list_runs(cursor="definitely-not-a-cursor")


def test_session_history_has_completed_turns_oldest_first(store: Store) -> None:
    seven_runs(store)
    assert [m.content for m in store.reader.session_history("even")] == ["q-r0", "a-r0", "q-r2", "a-r2", "q-r4", "a-r4"]
    assert [m.content for m in store.reader.session_history("even", max_turns=1)] == ["q-r4", "a-r4"]
    assert store.reader.session_history("nobody") == ()


def test_sessions_most_recent_first_with_run_counts(store: Store) -> None:
    seven_runs(store)
    page = store.reader.list_sessions(limit=1)
    assert [(s["session_id"], s["runs"], s["updated_at"]) for s in page.items] == [("even", 4, ts(6))]
    rest = store.reader.list_sessions(limit=5, cursor=page.next_cursor)
    assert [(s["session_id"], s["runs"], s["created_at"]) for s in rest.items] == [("odd", 3, ts(1))]
    assert rest.next_cursor is None


def test_checkpoints_are_insert_only_and_the_latest_wins(store: Store) -> None:
    store.writer.write([started("r1"), checkpoint("r1", 1), checkpoint("r1", 3, {"big": "x" * 100})])
    store.writer.write([checkpoint("r1", 2), checkpoint("r1", 1, {"changed": True})])
    assert [c["step"] for c in store.reader.checkpoints("r1")] == [1, 2, 3]
    assert "state" not in store.reader.checkpoints("r1")[0]
    latest = store.reader.checkpoint("r1")
    assert (latest["step"], latest["node"], latest["next_node"], latest["state"]) == (3, "n3", "n4", {"big": "x" * 100})
    assert latest["state_bytes"] == len('{"big":"' + "x" * 100 + '"}')
    assert store.reader.checkpoint("r1", 1)["state"] == {"step": 1}
    with pytest.raises(NotFound):
        store.reader.checkpoint("r1", 9)
    with pytest.raises(NotFound):
        store.reader.checkpoint("nothing")


def test_tool_effects_are_found_by_idempotency_key(store: Store) -> None:
    store.writer.write([ToolEffect("r1:1:c1", "r1", "mail", {"sent": 1}, ts(1))])
    store.writer.write([ToolEffect("r1:1:c1", "r1", "mail", {"sent": 2}, ts(2))])
    assert store.reader.tool_effect("r1:1:c1") == (True, {"sent": 1})
    assert store.reader.tool_effect("r1:1:c2") == (False, None)


def test_effect_intents_keep_their_first_owner_and_end_with_the_outcome(store: Store) -> None:
    store.writer.write([EffectIntent("r1:1:c1", "r1", "owner-a", ts(1))])
    store.writer.write([EffectIntent("r1:1:c1", "r1", "owner-b", ts(2))])
    assert store.reader.effect_intent("r1:1:c1") == "owner-a"
    assert store.reader.effect_intent("r1:1:c2") is None
    store.writer.write([ToolEffect("r1:1:c1", "r1", "mail", {"sent": 1}, ts(3))])
    assert store.reader.effect_intent("r1:1:c1") is None
    store.writer.write([EffectIntent("r1:1:c1", "r1", "owner-c", ts(4))])
    assert store.reader.effect_intent("r1:1:c1") is None


def test_attempts_keep_their_end_once_set(store: Store) -> None:
    store.writer.write([RunAttempt("r1", 1, "running", ts(1), task_id="t1")])
    store.writer.write([RunAttempt("r1", 1, "failed", ts(1), worker_id="w1", ended_at=ts(4), error="lost")])
    store.writer.write([RunAttempt("r1", 1, "running", ts(1), ended_at=ts(9), error="late"),
                        RunAttempt("r1", 2, "running", ts(5), task_id="t1", worker_id="w2")])
    assert store.reader.attempts("r1") == [
        {"run_id": "r1", "attempt": 1, "task_id": "t1", "worker_id": "w1", "status": "failed", "started_at": ts(1),
         "ended_at": ts(4), "error": "lost"},
        {"run_id": "r1", "attempt": 2, "task_id": "t1", "worker_id": "w2", "status": "running", "started_at": ts(5),
         "ended_at": None, "error": None},
    ]


def test_an_attempts_claim_and_ack_read_back_as_its_tasks_queue_events(store: Store) -> None:
    store.writer.write([QueueEvent("t1", 1, "enqueued", ts(1), "r1"),
                        RunAttempt("r1", 1, "running", ts(2), "t1", "w1", claimed_at=ts(2))])
    store.writer.write([RunAttempt("r1", 1, "completed", ts(2), "t1", "w1", ts(3), claimed_at=ts(9), acked_at=ts(3))])
    store.writer.write([RunAttempt("r1", 1, "completed", ts(2), "t1", "w1", ts(3), acked_at=ts(8))])
    assert [(q["kind"], q["ts"], q["attempt"], q["run_id"], q["detail"]) for q in store.reader.queue_events("t1")] == [
        ("enqueued", ts(1), 1, "r1", {}), ("claimed", ts(2), 1, "r1", {"worker_id": "w1"}),
        ("acked", ts(3), 1, "r1", {"status": "completed", "worker_id": "w1"})], "the first claim and ack stand"
    assert store.reader.attempts("r1") == [
        {"run_id": "r1", "attempt": 1, "task_id": "t1", "worker_id": "w1", "status": "completed", "started_at": ts(2),
         "ended_at": ts(3), "error": None}]


def test_a_later_tasks_claims_are_its_own(store: Store) -> None:
    store.writer.write([QueueEvent("r1", 1, "enqueued", ts(1), "r1"),
                        RunAttempt("r1", 1, "failed", ts(2), "r1", "w1", ts(3), "boom", claimed_at=ts(2),
                                   acked_at=ts(3)),
                        QueueEvent("t2", 2, "requeued", ts(4), "r1"),
                        RunAttempt("r1", 2, "completed", ts(5), "t2", "w2", ts(6), claimed_at=ts(5), acked_at=ts(6))])
    assert [(q["kind"], q["attempt"]) for q in store.reader.queue_events("r1")] == [
        ("enqueued", 1), ("claimed", 1), ("acked", 1)]
    assert [(q["kind"], q["attempt"], q["detail"].get("worker_id")) for q in store.reader.queue_events("t2")] == [
        ("requeued", 2, None), ("claimed", 2, "w2"), ("acked", 2, "w2")]
    assert store.reader.queue_events("t3") == []


def test_queue_events_and_the_newest_heartbeat(store: Store) -> None:
    store.writer.write([QueueEvent("t1", 1, "claimed", ts(2), "r1", {"worker": "w1"}),
                        QueueEvent("t1", 1, "enqueued", ts(1), "r1")])
    assert [q["kind"] for q in store.reader.queue_events("t1")] == ["enqueued", "claimed"]
    assert store.reader.queue_events("t1")[1]["detail"] == {"worker": "w1"}
    store.writer.write([WorkerHeartbeat("w1", "h", 1, ts(0), ts(5), in_flight=2)])
    store.writer.write([WorkerHeartbeat("w1", "h", 1, ts(0), ts(3), in_flight=9),
                        WorkerHeartbeat("w0", "h", 2, ts(0), ts(1))])
    assert [(h["worker_id"], h["in_flight"]) for h in store.reader.heartbeats()] == [("w0", 0), ("w1", 2)]


def test_keys_and_audit_entries_are_accepted(store: Store) -> None:
    key = ApiKey("k1", "ask_1", "hash", "admin", "ops", ts(0))
    entry = AuditEntry("a1", ts(1), "runs.cancel", "ok", key_id="k1")
    assert store.writer.write([key, entry]) == []
    assert store.writer.write([key, entry]) == []


def test_batches_grouped_in_one_transaction_are_visible_after_commit(store: Store) -> None:
    store.writer.begin()
    first = store.writer.apply_batch([started("r1")])
    second = store.writer.apply_batch([completed("r1"), started("r1")])
    store.writer.commit()
    assert [e.seq for e in first + second] == [1, 2]
    assert not store.writer.in_transaction
    assert store.reader.get_run("r1").status == "completed"


def test_an_unknown_record_type_is_refused(store: Store) -> None:
    with pytest.raises(TypeError, match="cannot store"):
        store.writer.write([object()])  # type: ignore[list-item]



def test_session_history_keeps_arrival_order_within_a_millisecond(store: Store) -> None:
    for name in ("zeta", "alpha", "mid"):
        store.writer.write([Event(name, 1, "run.started", ts(1), "same", {"input": f"q-{name}", "kind": "agent"}),
                            completed(name, session="same", second=2)])
    assert [m.content for m in store.reader.session_history("same")][::2] == ["q-zeta", "q-alpha", "q-mid"]
    assert [m.content for m in store.reader.session_history("same", max_turns=2)][::2] == ["q-alpha", "q-mid"]
