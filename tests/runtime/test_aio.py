"""IOLoop: coroutines, timers and blocking calls from any thread; a clean stop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from agentstage.runtime.aio import IOLoop


@pytest.fixture
def io():
    loop = IOLoop(blocking_threads=2).start()
    yield loop
    loop.stop()


def test_submit_runs_a_coroutine_on_the_loop_thread(io: IOLoop) -> None:
    async def where() -> str:
        await asyncio.sleep(0)
        return threading.current_thread().name

    assert io.submit(where()).result(5) == "agentstage-io"


def test_a_timer_calls_back_on_the_loop_and_a_failing_one_does_not_stop_it(io: IOLoop) -> None:
    fired = threading.Event()
    io.call_later(0.01, lambda: 1 / 0)
    io.call_later(0.02, fired.set)
    assert fired.wait(5)
    assert io.running


def test_blocking_calls_run_on_the_bounded_executor(io: IOLoop) -> None:
    names = {io.run_blocking(lambda: threading.current_thread().name).result(5) for _ in range(8)}
    assert all(name.startswith("agentstage-io-blocking") for name in names) and len(names) <= 2


def test_stop_cancels_what_is_pending() -> None:
    io = IOLoop().start()
    never = io.submit(asyncio.sleep(3600))
    io.stop(timeout=2)
    assert never.cancelled() and not io.running


def test_a_deadline_fires_on_the_loop_after_its_delay(io: IOLoop) -> None:
    fired: list[str] = []
    done = threading.Event()
    io.after(0.01, lambda: fired.append(threading.current_thread().name) or done.set())
    assert done.wait(5) and fired == ["agentstage-io"]


def test_a_cancelled_deadline_does_not_fire(io: IOLoop) -> None:
    fired: list[str] = []
    done = threading.Event()
    io.after(0.01, lambda: fired.append("cancelled")).cancel()
    io.after(0.02, lambda: fired.append("kept") or done.set())
    assert done.wait(5) and fired == ["kept"]


def test_calls_from_many_threads_each_start_once_and_report_once_on_the_loop(io: IOLoop) -> None:
    reported: list[tuple[int, str]] = []
    done = threading.Event()
    lock = threading.Lock()

    async def echo(number: int) -> int:
        await asyncio.sleep(0)
        return number

    def on_done(result: int | None, error: BaseException | None) -> None:
        with lock:
            reported.append((result, threading.current_thread().name))
            if len(reported) == 1600:
                done.set()

    def caller(first: int) -> None:
        for number in range(first, first + 200):
            io.call(echo(number), on_done)

    callers = [threading.Thread(target=caller, args=(first,)) for first in range(0, 1600, 200)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join()
    assert done.wait(10)
    assert sorted(number for number, _ in reported) == list(range(1600))
    assert {name for _, name in reported} == {"agentstage-io"}


def test_a_call_cancelled_while_the_loop_is_busy_never_starts(io: IOLoop) -> None:
    busy, release = threading.Event(), threading.Event()
    started: list[str] = []

    async def hold_the_loop() -> None:
        busy.set()
        release.wait(5)

    async def work() -> None:
        started.append("work")

    io.submit(hold_the_loop())
    assert busy.wait(5)
    io.call(work(), lambda result, error: started.append("reported")).cancel()
    release.set()
    assert io.submit(asyncio.sleep(0.05)).result(5) is None
    assert started == []


def test_a_loop_started_again_after_a_stop_runs_calls() -> None:
    io = IOLoop().start()
    io.stop(timeout=2)
    io._woken = True  # NOTE: as a stop leaves it when it lands between a call's queueing and the loop's turn
    io.start()
    done = threading.Event()

    async def nothing() -> None:
        return None

    try:
        io.call(nothing(), lambda result, error: done.set())
        assert done.wait(5)
    finally:
        io.stop(timeout=2)
