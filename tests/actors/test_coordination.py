"""Load: how much the coordinator's readers may take, and the wake-up a reader without room waits for."""

from __future__ import annotations

from agentstage.actors.coordination import Load


def test_room_shrinks_with_entries_in_process_and_admission_with_active_runs():
    load = Load(max_active=1000, max_in_process=600)
    assert (load.results_room(), load.admit_room()) == (500, 50)
    load.reserve(580)
    assert (load.results_room(), load.admit_room()) == (20, 20)
    load.active = 960
    assert load.admit_room() == 0
    load.release(580)
    assert (load.results_room(), load.admit_room()) == (500, 40)


def test_a_release_wakes_every_reader_that_waits_for_room():
    load = Load(max_active=10, max_in_process=10)
    woken: list[str] = []
    load.on_release(lambda: woken.append("results"))
    load.on_release(lambda: woken.append("admit"))
    load.reserve(10)
    assert load.results_room() == 0 and woken == []
    load.release(4)
    assert woken == ["results", "admit"] and load.results_room() == 4


def test_readers_linger_only_while_several_runs_are_unfinished():
    load = Load(max_active=1000, linger=0.004)
    assert load.linger() == 0.0
    load.active = 3
    assert load.linger() == 0.0
    load.active = 4
    assert load.linger() == 0.004
    assert Load(max_active=1000, linger=0.0).linger() == 0.0
