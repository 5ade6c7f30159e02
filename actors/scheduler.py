"""SchedulerActor: checks the stored schedules every `poll` seconds and fires the due ones.

A process that can start runs (the API of `ui` / `ui-api`, an application's System) runs one;
several may run against one store: each due tick is claimed in the store and only its owner
starts the run (`runtime.schedules.firing`). The actor never waits in a handler: a check runs on
the System's blocking executor and reports back with `_Checked`; the next check is a timer message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pykka
from loguru import logger

from agentstage.actors.supervision import Slot, SupervisedActor

if TYPE_CHECKING:
    from agentstage.runtime.aio import IOLoop
    from agentstage.runtime.schedules import Firing

__all__ = ["CheckNow", "SchedulerActor"]


@dataclass(frozen=True, slots=True)
class CheckNow:
    """Check the schedules now (the timer's message; also sent after a schedule changed)."""


@dataclass(frozen=True, slots=True)
class _Checked:
    fired: int
    error: BaseException | None = None


class SchedulerActor(SupervisedActor):
    """Runs `firing.check()` off its thread, one check at a time, `poll` seconds apart."""

    def __init__(self, firing: Firing, io: IOLoop, poll: float, slot: Slot | None = None) -> None:
        super().__init__(slot)
        self.firing = firing
        self.io = io
        self.poll = poll
        self._checking = False
        self._again = False
        self._stopped = False

    def on_start(self) -> None:
        self.actor_ref.tell(CheckNow())

    def on_stop(self) -> None:
        self._stopped = True

    def receive(self, message: Any) -> Any:
        if isinstance(message, CheckNow):
            self._check()
        elif isinstance(message, _Checked):
            self._checking = False
            if message.error is not None:
                logger.opt(exception=message.error).error("scheduler check failed; next check in {} s", self.poll)
            if self._again:
                self._again = False
                self._check()
            else:
                self._arm()
        return None

    def _check(self) -> None:
        if self._checking:  # NOTE: a check is running; one more right after it sees what the caller changed
            self._again = True
            return
        self._checking = True
        ref = self.actor_ref
        future = self.io.run_blocking(self.firing.check)
        future.add_done_callback(lambda f: _tell(ref, _Checked(0, f.exception()) if f.exception() is not None
                                                 else _Checked(len(f.result()))))

    def _arm(self) -> None:
        if self._stopped:
            return
        ref = self.actor_ref
        self.io.call_later(self.poll, lambda: _tell(ref, CheckNow()))


def _tell(ref: pykka.ActorRef[Any], message: Any) -> None:
    try:
        ref.tell(message)
    except pykka.ActorDeadError:  # NOTE: the System stopped the scheduler while a check or timer was pending
        pass
