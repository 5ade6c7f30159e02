"""Reply: set once from any thread, read with a timeout, errors re-raised."""

from __future__ import annotations

import asyncio
import queue
import threading

import pykka
import pytest

from agentstage.runtime.futures import Reply, settled


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


def test_a_done_callback_runs_when_the_reply_is_set_or_at_once_if_it_was() -> None:
    calls: list[str] = []
    reply = Reply()
    reply.add_done_callback(lambda: calls.append("before"))
    assert calls == []
    reply.set(1)
    reply.add_done_callback(lambda: calls.append("after"))
    assert calls == ["before", "after"]


def test_a_failing_done_callback_stops_neither_the_setter_nor_the_others() -> None:
    calls: list[str] = []
    reply = Reply()
    reply.add_done_callback(lambda: 1 / 0)
    reply.add_done_callback(lambda: calls.append("second"))
    reply.set(1)
    assert calls == ["second"] and reply.get(timeout=0) == 1


def test_many_replies_are_awaited_on_a_loop_holding_no_thread() -> None:
    replies = [Reply() for _ in range(1000)]

    async def wait_all() -> tuple[list[int], int]:
        waiting = asyncio.gather(*(settled(reply, timeout=10) for reply in replies))
        await asyncio.sleep(0.05)
        threads = threading.active_count()
        setter = threading.Thread(target=lambda: [reply.set(i) for i, reply in enumerate(replies)])
        setter.start()
        values = await waiting
        setter.join()
        return values, threads

    values, threads = asyncio.run(wait_all())
    assert values == list(range(1000)) and threads == threading.active_count()


def test_an_awaited_reply_raises_its_error_and_times_out_as_get_does() -> None:
    failed, silent = Reply(), Reply()
    failed.set_exception((ValueError, ValueError("boom"), None))
    with pytest.raises(ValueError, match="boom"):
        asyncio.run(settled(failed, timeout=5))
    with pytest.raises(pykka.Timeout):
        asyncio.run(settled(silent, timeout=0.01))
    silent.set("late")
    assert silent.get(timeout=0) == "late"


def test_other_pykka_futures_are_awaited_through_the_executor() -> None:
    future = pykka.ThreadingFuture()
    threading.Timer(0.05, future.set, ("done",)).start()
    assert asyncio.run(settled(future, timeout=5)) == "done"
