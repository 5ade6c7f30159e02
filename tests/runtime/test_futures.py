"""Reply: set once from any thread, read with a timeout, errors re-raised."""

from __future__ import annotations

import queue
import threading

import pykka
import pytest

from agentstage.runtime.futures import Reply


def test_a_value_set_before_or_after_the_wait_is_returned() -> None:
    early = Reply()
    early.set(1)
    late = Reply()
    threading.Timer(0.05, late.set, (2,)).start()
    assert (early.get(timeout=1), late.get(timeout=5)) == (1, 2)


def test_get_times_out_and_a_second_set_is_refused() -> None:
    reply = Reply()
    with pytest.raises(pykka.Timeout):
        reply.get(timeout=0.01)
    reply.set("x")
    with pytest.raises(queue.Full):
        reply.set("y")


def test_an_exception_is_raised_by_get() -> None:
    reply = Reply()
    try:
        raise ValueError("boom")
    except ValueError:
        reply.set_exception()
    with pytest.raises(ValueError, match="boom"):
        reply.get(timeout=1)


def test_map_works_as_on_pykka_futures() -> None:
    reply = Reply()
    reply.set(20)
    assert reply.map(lambda value: value + 1).get(timeout=1) == 21
