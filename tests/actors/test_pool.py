"""AgentPool: least-busy routing and the admission limit."""

from __future__ import annotations

import threading
import time
from typing import Any

import pykka

from agentstage.actors.pool import AgentPool


class Holder(pykka.ThreadingActor):
    """Holds each message until the test releases it, then reports idle."""

    def __init__(self, held: list, on_idle) -> None:
        super().__init__()
        self.held, self.on_idle = held, on_idle

    def on_receive(self, message: Any) -> None:
        self.held.append((message, self.on_idle))


def make_pool(limit: int | None, queued: list) -> tuple[AgentPool, list]:
    held: list = []
    pool = AgentPool("test", 2, lambda slot, on_idle: Holder.start(held, on_idle), limit=limit,
                     on_queued=lambda message: queued.append(message) or f"{message}+queued")
    return pool, held


def wait_for(predicate) -> None:
    for _ in range(500):
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")


def test_runs_beyond_the_limit_wait_in_order_and_start_when_a_run_ends() -> None:
    queued: list = []
    pool, held = make_pool(2, queued)
    try:
        for name in "abcd":
            pool.dispatch(name)
        wait_for(lambda: len(held) == 2)
        assert (pool.in_flight, pool.queued, queued) == (2, 2, ["c", "d"])
        held.pop(0)[1]()
        wait_for(lambda: len(held) == 2 and held[-1][0] == "c+queued")
        assert pool.queued == 1
    finally:
        pool.stop()


def test_drain_waits_for_the_runs_in_flight() -> None:
    pool, held = make_pool(None, [])
    try:
        pool.dispatch("a")
        wait_for(lambda: len(held) == 1)
        assert not pool.drain(time.monotonic() + 0.05)
        threading.Timer(0.05, held[0][1]).start()
        assert pool.drain(time.monotonic() + 10)
    finally:
        pool.stop()


def test_messages_go_to_the_least_busy_member() -> None:
    pool, held = make_pool(None, [])
    try:
        pool.dispatch("a")
        pool.dispatch("b")
        wait_for(lambda: len(held) == 2)
        assert held[0][1] is not held[1][1]
    finally:
        pool.stop()
