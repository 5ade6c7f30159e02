"""ObserverActor: thread and event-loop subscribers get the events they filter for; a slow loop subscriber
is ended cleanly instead of growing without bound."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from agentstage.actors.observer import AsyncSubscription, ObserverActor, Subscribe, Subscription, Unsubscribe
from agentstage.actors.store import Publish
from agentstage.actors.supervision import Slot
from agentstage.runtime.state.records import Event


def event(run_id: str, seq: int, kind: str = "note") -> Event:
    return Event(run_id, seq, kind, "2026-01-01T00:00:00.000Z", "s")


@pytest.fixture
def observer() -> Iterator[tuple[Slot, list[Subscription]]]:
    subscriptions: list[Subscription] = []
    slot = Slot("observer", lambda s: ObserverActor.start(s, subscriptions))
    yield slot, subscriptions
    slot.stop()


def _eventually(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _subscribe(slot: Slot, subscription: Subscription) -> Subscription:
    subscription._close = lambda: slot.tell(Unsubscribe(subscription))
    slot.tell(Subscribe(subscription))
    return subscription


def test_a_thread_subscriber_gets_only_its_run(observer) -> None:
    slot, _ = observer
    subscription = _subscribe(slot, Subscription("r1"))
    slot.tell(Publish((event("r1", 1), event("r2", 1), event("r1", 2))))
    assert [(e.run_id, e.seq) for e in (subscription.get(5), subscription.get(5))] == [("r1", 1), ("r1", 2)]
    assert subscription.get(0.2) is None


def test_a_loop_subscriber_awaits_its_events_without_a_thread(observer) -> None:
    slot, _ = observer

    async def scenario() -> list[tuple[str, int]]:
        subscription = _subscribe(slot, AsyncSubscription(asyncio.get_running_loop(), types=frozenset({"keep"})))
        slot.tell(Publish((event("a", 1, "keep"), event("a", 2, "drop"), event("b", 1, "keep"))))
        got = [await subscription.get(5), await subscription.get(5)]
        assert await subscription.get(0.1) is None
        subscription.close()
        return [(e.run_id, e.seq) for e in got]

    assert asyncio.run(scenario()) == [("a", 1), ("b", 1)]


def test_a_loop_subscriber_that_falls_behind_is_ended_and_unsubscribed(observer) -> None:
    slot, subscriptions = observer

    async def scenario() -> tuple[list, AsyncSubscription]:
        subscription = _subscribe(slot, AsyncSubscription(asyncio.get_running_loop(), "r", bound=5))
        slot.tell(Publish(tuple(event("r", seq) for seq in range(1, 4))))
        first = await subscription.get(5)
        slot.tell(Publish(tuple(event("r", seq) for seq in range(4, 20))))
        rest = []
        while (item := await subscription.get(5)) is not subscription.ENDED:
            rest.append(item)
        assert await subscription.get(0) is subscription.ENDED, "an ended feed stays ended"
        return [first, *rest], subscription

    got, subscription = asyncio.run(scenario())
    assert subscription.overflowed and len(got) <= 5
    assert [e.seq for e in got] == list(range(1, len(got) + 1)), "what arrived before the overflow is in order"
    _eventually(lambda: subscription not in subscriptions)


def test_ending_a_loop_subscriber_wakes_its_reader_at_once(observer) -> None:
    slot, subscriptions = observer

    async def scenario() -> object:
        subscription = _subscribe(slot, AsyncSubscription(asyncio.get_running_loop(), "r"))
        waiting = asyncio.ensure_future(subscription.get(None))
        await asyncio.sleep(0)
        subscription.end()
        return await asyncio.wait_for(waiting, 30), subscription

    item, subscription = asyncio.run(scenario())
    assert item is subscription.ENDED and not subscription.overflowed
    _eventually(lambda: subscription not in subscriptions)


def test_a_subscriber_whose_loop_closed_does_not_break_the_observer(observer) -> None:
    slot, _ = observer
    loop = asyncio.new_event_loop()
    stale = _subscribe(slot, AsyncSubscription(loop, "r"))
    loop.close()
    live = _subscribe(slot, Subscription("r"))
    slot.tell(Publish((event("r", 1),)))
    assert live.get(5).seq == 1
    assert stale.ended
