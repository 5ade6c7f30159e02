"""Slots replace crashed actors without losing queued messages; repeated crashes back off."""

import threading

import pykka

from agentstage.actors.supervision import Slot, SupervisedActor


class Flaky(SupervisedActor):
    """Crashes on "crash"; records everything else in a shared list."""

    def __init__(self, seen: list, crashed: list, slot: Slot) -> None:
        super().__init__(slot)
        self.seen, self.crashed = seen, crashed

    def receive(self, message):
        if message == "crash":
            raise RuntimeError("boom")
        if isinstance(message, pykka.ThreadingFuture):
            message.set(self.actor_urn)
            return
        self.seen.append(message)

    def on_crash(self, message, error):
        self.crashed.append((message, str(error)))


def test_crash_restarts_the_actor_and_keeps_queued_messages() -> None:
    seen, crashed = [], []
    slot = Slot("flaky", lambda s: Flaky.start(seen, crashed, s))
    first = slot.ref
    for message in ["a", "crash", "b", "c"]:
        slot.tell(message)
    for message in ["d", "e"]:
        slot.tell(message)
    probe = pykka.ThreadingFuture()
    slot.tell(probe)
    probe.get(timeout=5)
    done = threading.Event()
    for _ in range(100):
        if sorted(seen) == ["a", "b", "c", "d", "e"]:
            done.set()
            break
        threading.Event().wait(0.02)
    slot.stop()
    assert done.is_set(), seen
    assert crashed == [("crash", "boom")]
    assert slot.ref is not first and slot.restarts == 1
    assert not first.is_alive()


def test_repeated_crashes_back_off_and_keep_restarting() -> None:
    seen, crashed = [], []
    slot = Slot("flaky", lambda s: Flaky.start(seen, crashed, s), initial_backoff=0.01, max_backoff=0.02)
    for _ in range(4):
        slot.tell("crash")
        probe = pykka.ThreadingFuture()
        slot.tell(probe)
        probe.get(timeout=5)
    slot.tell("alive")
    probe = pykka.ThreadingFuture()
    slot.tell(probe)
    probe.get(timeout=5)
    slot.stop()
    assert slot.restarts == 4 and "alive" in seen
