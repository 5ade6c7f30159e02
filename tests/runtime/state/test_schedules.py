"""Stored schedules through `runtime/state/schedules.py`, on every backend: a replace keeps `created_at`, a
tick's first claimer owns it, only the owner moves it on, a stale claim is taken over, a create of a taken
name is refused, a removed schedule takes its history with it."""

from __future__ import annotations

import pytest

from agentstage.runtime.errors import NotFound, Refused
from agentstage.runtime.state.records import Schedule, ScheduleFire, ScheduleRemoved
from agentstage.runtime.state.schedules import fire_row, fires, get_schedule, last_scheduled_tick, list_schedules
from tests.runtime.state.conftest import ts
from tests.runtime.state.test_contract import Store, store  # noqa: F401  (the contract's fixture)


def schedule(name: str, at: int, **changes: object) -> Schedule:
    base = {"name": name, "agent": "default", "input": "hi", "enabled": True, "since": ts(at), "created_at": ts(at),
            "updated_at": ts(at), "cron": "*/5 * * * *", "timezone": "Europe/Paris"}
    return Schedule(**{**base, **changes})


def test_schedules_round_trip_and_a_replace_keeps_created_at(store: Store) -> None:
    store.writer.write([schedule("b", 1), schedule("a", 2, every_s=60.0, cron=None, config={"tools": ["x"]})])
    store.writer.write([schedule("b", 9, enabled=False)])
    assert [s["name"] for s in list_schedules(store.reader)] == ["a", "b"]
    b = get_schedule(store.reader, "b")
    assert (b["enabled"], b["created_at"], b["updated_at"], b["cron"]) == (False, ts(1), ts(9), "*/5 * * * *")
    assert get_schedule(store.reader, "a")["config"] == {"tools": ["x"]}
    with pytest.raises(NotFound):
        get_schedule(store.reader, "missing")


def test_first_claim_of_a_tick_wins_and_only_its_owner_moves_it_on(store: Store) -> None:
    store.writer.write([schedule("s", 1)])
    store.writer.write([ScheduleFire("s", ts(5), "schedule", "one", "claimed", ts(6))])
    store.writer.write([ScheduleFire("s", ts(5), "schedule", "two", "claimed", ts(6))])
    assert fire_row(store.reader, "s", ts(5))["owner"] == "one"
    store.writer.write([ScheduleFire("s", ts(5), "schedule", "two", "started", ts(7), run_id="r2")])
    store.writer.write([ScheduleFire("s", ts(5), "schedule", "one", "started", ts(7), run_id="r1")])
    row = fire_row(store.reader, "s", ts(5))
    assert (row["owner"], row["status"], row["run_id"], row["claimed_at"]) == ("one", "started", "r1", ts(6))


def test_history_is_newest_first_and_manual_triggers_are_not_scheduled_ticks(store: Store) -> None:
    store.writer.write([schedule("s", 1),
                        ScheduleFire("s", ts(5), "schedule", "o", "started", ts(5), run_id="r1"),
                        ScheduleFire("s", ts(10), "schedule", "o", "skipped", ts(20), detail={"missed": 3}),
                        ScheduleFire("s", ts(30), "manual", "o", "started", ts(30), run_id="r3")])
    assert [(f["tick"], f["trigger"]) for f in fires(store.reader, "s")] == [
        (ts(30), "manual"), (ts(10), "schedule"), (ts(5), "schedule")]
    assert fires(store.reader, "s", limit=1)[0]["run"] is None
    assert fires(store.reader, "s")[1]["detail"] == {"missed": 3}
    assert last_scheduled_tick(store.reader, "s") == ts(10)
    assert last_scheduled_tick(store.reader, "other") is None


def test_removing_a_schedule_removes_its_history(store: Store) -> None:
    store.writer.write([schedule("s", 1), ScheduleFire("s", ts(5), "schedule", "o", "started", ts(5))])
    store.writer.write([ScheduleRemoved("s", ts(9))])
    assert list_schedules(store.reader) == []
    assert fires(store.reader, "s") == []


def test_a_stale_claim_is_taken_over_and_a_fresh_one_is_not(store: Store) -> None:
    store.writer.write([ScheduleFire("s", ts(5), "schedule", "dead", "claimed", ts(6))])
    store.writer.write([ScheduleFire("s", ts(5), "schedule", "new", "claimed", ts(20), steal_before=ts(6))])
    assert fire_row(store.reader, "s", ts(5))["owner"] == "dead"
    store.writer.write([ScheduleFire("s", ts(5), "schedule", "new", "claimed", ts(50), steal_before=ts(40))])
    assert fire_row(store.reader, "s", ts(5))["owner"] == "new"


def test_a_create_of_a_taken_name_is_refused_with_nothing_of_its_batch(store: Store) -> None:
    store.writer.write([schedule("s", 1, condition="create")])
    with pytest.raises(Refused, match="a schedule named 's' exists") as refused:
        store.writer.write([schedule("s", 2, input="other", condition="create"),
                            ScheduleFire("s", ts(5), "schedule", "o", "started", ts(5), run_id="r")])
    assert refused.value.field == "name"
    kept = get_schedule(store.reader, "s")
    assert (kept["input"], kept["updated_at"]) == ("hi", ts(1)) and "condition" not in kept
    assert fires(store.reader, "s") == []


def test_an_update_of_a_removed_schedule_does_not_bring_it_back(store: Store) -> None:
    store.writer.write([schedule("s", 1), ScheduleRemoved("s", ts(2))])
    with pytest.raises(NotFound):
        store.writer.write([schedule("s", 3, enabled=False, condition="update")])
    assert list_schedules(store.reader) == []
    store.writer.write([schedule("t", 1), schedule("t", 4, enabled=False, condition="update")])
    assert get_schedule(store.reader, "t")["enabled"] is False


@pytest.mark.parametrize("backend", ["redis"], indirect=True)  # NOTE: only the Redis store expires state
def test_schedules_and_their_history_outlive_the_redis_state_ttl(store: Store, backend) -> None:
    assert backend.config.state_redis_ttl > 0
    store.writer.write([schedule("s", 1), ScheduleFire("s", ts(5), "schedule", "o", "claimed", ts(5))])
    store.writer.write([ScheduleFire("s", ts(5), "schedule", "o", "started", ts(6), run_id="r")])
    prefix = f"{backend.config.stream_prefix}:state"
    assert backend.client.ttl(f"{prefix}:schedules") == -1
    assert backend.client.ttl(f"{prefix}:schedule:s:fires") == -1


@pytest.mark.parametrize("backend", ["redis"], indirect=True)  # NOTE: SQLite checks the condition in its transaction
def test_a_create_racing_another_between_its_read_and_its_write_is_refused(backend) -> None:
    first, second = backend.writer(), backend.writer()
    read = first._read
    raced: list[bool] = []

    def read_then_lose_the_race(records):
        state = read(records)
        if not raced:
            raced.append(True)
            second.write([schedule("s", 1, input="theirs", condition="create")])
        return state

    first._read = read_then_lose_the_race
    with pytest.raises(Refused, match="a schedule named 's' exists"):
        first.write([schedule("s", 2, input="mine", condition="create"),
                     ScheduleFire("s", ts(5), "schedule", "o", "started", ts(5), run_id="r")])
    reader = backend.reader()
    assert get_schedule(reader, "s")["input"] == "theirs" and fires(reader, "s") == []
    for opened in (reader, first, second):
        opened.close()
