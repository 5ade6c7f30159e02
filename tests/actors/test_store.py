"""StoreActor: group commit, replies after the commit, failures isolated to their writer."""

from pathlib import Path

import pykka
import pytest

from agentstage.actors.observer import ObserverActor, Subscribe, Subscription
from agentstage.actors.store import StoreActor, StoreJournal, Write
from agentstage.actors.supervision import Slot
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.records import Event, ToolEffect
from agentstage.runtime.state.sqlite import SQLiteWriter
from agentstage.runtime.tools.journal import INTERRUPTED


@pytest.fixture
def store(tmp_path: Path):
    writer = SQLiteWriter(tmp_path / "state.db")
    subscriptions: list[Subscription] = []
    observer = Slot("observer", lambda slot: ObserverActor.start(slot, subscriptions))
    store = Slot("store", lambda slot: StoreActor.start(writer, observer, slot))
    yield store, observer, SQLiteReader(tmp_path / "state.db")
    store.stop()
    observer.stop()
    writer.close()


def event(run_id: str, seq: int, kind: str = "note") -> Event:
    return Event(run_id, seq, kind, "2026-01-01T00:00:00.000Z", "s")


def test_every_writer_gets_its_reply_once_committed(store) -> None:
    slot, _, reader = store
    replies = []
    for i in range(500):
        reply = pykka.ThreadingFuture()
        slot.tell(Write((event(f"r{i % 10}", i),), reply, i))
        replies.append(reply)
    assert [r.get(timeout=10) for r in replies] == list(range(500))
    assert reader.count("events") == 500


def test_a_failing_write_does_not_take_other_writes_down(store) -> None:
    slot, _, reader = store
    good, bad = pykka.ThreadingFuture(), pykka.ThreadingFuture()
    slot.tell(Write((event("a", 1),), good, "ok"))
    slot.tell(Write((event("b", 1), "not a record"), bad))
    slot.tell(Write((event("c", 1),)))
    assert good.get(timeout=5) == "ok"
    slot.tell(Write(()))
    with pytest.raises(Exception):
        bad.get(timeout=5)
    final = pykka.ThreadingFuture()
    slot.tell(Write((), final, "done"))
    final.get(timeout=5)
    assert [e.run_id for r in ("a", "b", "c") for e in reader.events(r)] == ["a", "c"]


def test_subscribers_see_events_only_after_they_are_durable(store) -> None:
    slot, observer, reader = store
    subscription = Subscription("r1")
    observer.tell(Subscribe(subscription))
    slot.tell(Write((event("r1", 1), event("r2", 1), event("r1", 2))))
    seen = [subscription.get(timeout=5), subscription.get(timeout=5)]
    assert [(e.run_id, e.seq) for e in seen] == [("r1", 1), ("r1", 2)]
    assert [e.seq for e in reader.events("r1")] == [1, 2]
    slot.tell(Write((event("r1", 1),)))
    assert subscription.get(timeout=0.3) is None, "a replayed event is not published twice"


def _journals(tmp_path: Path, store) -> tuple[StoreJournal, StoreJournal, SQLiteReader]:
    slot, _, reader = store
    return StoreJournal(slot, lambda: reader), StoreJournal(slot, lambda: reader), reader


def test_journal_marks_a_call_started_before_it_runs_and_clears_the_mark_with_its_outcome(tmp_path, store) -> None:
    first, _, reader = _journals(tmp_path, store)
    assert first.lookup("run-1:1:c1") == (False, None)
    assert reader.effect_intent("run-1:1:c1") == first.owner
    assert first.lookup("run-1:1:c1") == (False, None)
    first.record(ToolEffect("run-1:1:c1", "run-1", "mail", {"sent": True}, "2026-01-01T00:00:00.000Z"))
    assert reader.effect_intent("run-1:1:c1") is None
    assert first.lookup("run-1:1:c1") == (True, {"sent": True})


def test_a_call_started_by_another_journal_without_an_outcome_is_never_repeated(tmp_path, store) -> None:
    died, resumed, reader = _journals(tmp_path, store)
    assert died.lookup("run-1:1:c1") == (False, None)
    assert resumed.lookup("run-1:1:c1") == (True, {"error": INTERRUPTED})
    assert reader.tool_effect("run-1:1:c1") == (True, {"error": INTERRUPTED})
    assert reader.effect_intent("run-1:1:c1") is None
    assert died.lookup("run-1:1:c1") == (True, {"error": INTERRUPTED})


def test_a_completed_call_is_replayed_to_any_journal(tmp_path, store) -> None:
    first, other, _ = _journals(tmp_path, store)
    first.lookup("run-1:2:c9")
    first.record(ToolEffect("run-1:2:c9", "run-1", "mail", {"sent": 1}, "2026-01-01T00:00:00.000Z"))
    assert other.lookup("run-1:2:c9") == (True, {"sent": 1})
