"""raise_gc_threshold: young-generation passes stop walking the objects of runs in flight; an application's own
collector settings stand."""

from __future__ import annotations

import gc
import weakref

import pytest

from agentstage.runtime.gc_policy import raise_gc_threshold

pytestmark = pytest.mark.usefixtures("interpreter_gc")


def _young_passes() -> int:
    return gc.get_stats()[0]["collections"]


def test_objects_held_in_flight_are_no_longer_walked_every_700_allocations() -> None:
    assert raise_gc_threshold(50_000)
    before = _young_passes()
    in_flight = [{"run": i, "messages": [[i]]} for i in range(10_000)]
    assert _young_passes() == before
    gc.set_threshold(700, 10, 10)
    more = [{"run": i, "messages": [[i]]} for i in range(10_000)]
    assert _young_passes() > before
    assert len(in_flight) == len(more)


def test_raises_the_interpreters_threshold_and_keeps_the_older_generations() -> None:
    assert raise_gc_threshold(50_000)
    assert gc.get_threshold() == (50_000, 10, 10)


def test_an_applications_higher_threshold_stands() -> None:
    gc.set_threshold(200_000, 5, 5)
    assert not raise_gc_threshold(50_000)
    assert gc.get_threshold() == (200_000, 5, 5)


def test_zero_leaves_the_collector_as_it_is() -> None:
    assert not raise_gc_threshold(0)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_disabled_collector_stays_disabled_and_untouched() -> None:
    gc.disable()
    assert not raise_gc_threshold(50_000)
    assert (gc.isenabled(), gc.get_threshold()) == (False, (700, 10, 10))


def test_a_cycle_is_still_freed_without_an_explicit_collection() -> None:
    raise_gc_threshold(50_000)

    class Node:
        next: Node

    node = Node()
    node.next = node
    gone = weakref.ref(node)
    del node
    churn = [[i] for i in range(60_000)]
    assert gone() is None
    assert len(churn) == 60_000
