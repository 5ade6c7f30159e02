"""Supervision: handlers that never let an exception escape, and slots that restart crashed actors.

pykka stops an actor whose `tell` handler raises and stops *every* actor when a BaseException
escapes, so `SupervisedActor.on_receive` catches everything, lets the subclass fail the work it
held (`on_crash`), and asks its `Slot` for a replacement. The slot starts the new actor first
(new messages go there) and then stops the old one gracefully, so messages already queued for
it are still handled: nothing is lost. Repeated crashes restart with exponential backoff.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pykka
from loguru import logger

__all__ = ["Slot", "SupervisedActor"]


class SupervisedActor(pykka.ThreadingActor):
    """Base actor: override `receive`; an exception becomes `on_crash` plus a restart."""

    def __init__(self, slot: Slot | None = None) -> None:
        super().__init__()
        self.slot = slot

    def on_receive(self, message: Any) -> Any:
        try:
            return self.receive(message)
        except BaseException as exc:  # NOTE: a BaseException escaping would stop every actor in the process
            try:
                self.on_crash(message, exc)
            except BaseException as nested:
                logger.opt(exception=nested).error("{} failed while handling its own crash", type(self).__name__)
            if self.slot is not None:
                self.slot.replace(self, exc)
            else:
                logger.opt(exception=exc).error("{} crashed and has no supervisor", type(self).__name__)
            return None

    def receive(self, message: Any) -> Any:
        """Handle one message on this actor's thread."""
        raise NotImplementedError

    def on_crash(self, message: Any, error: BaseException) -> None:
        """Fail whatever `message` was doing; called on this actor's thread before the restart."""


class Slot:
    """A named place for one actor that a supervisor keeps filled.

    `tell` always reaches the current actor, also while it is being replaced. A `lazy` slot starts
    its actor with the first message (or the first read of `ref`): a System starts pools and graph
    node actors that a single run mostly leaves idle, and each is a thread.
    """

    def __init__(
        self,
        name: str,
        factory: Callable[[Slot], pykka.ActorRef[Any]],
        *,
        initial_backoff: float = 0.05,
        max_backoff: float = 5.0,
        reset_after: float = 30.0,
        lazy: bool = False,
    ) -> None:
        self.name = name
        self._factory = factory
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._reset_after = reset_after
        self._lock = threading.Lock()
        self._restarts = 0
        self._restarts_in_streak = 0
        self._last_crash = 0.0
        self._stopping = False
        self._start_lock = threading.Lock()
        self._ref: pykka.ActorRef[Any] | None = None if lazy else factory(self)

    @property
    def ref(self) -> pykka.ActorRef[Any]:
        """The current actor, started now when the slot is lazy and has none yet."""
        ref = self._ref
        if ref is None:
            with self._start_lock:
                if self._ref is None:
                    if self._stopping:
                        raise pykka.ActorDeadError(f"slot {self.name} is stopped")
                    self._ref = self._factory(self)
                ref = self._ref
        return ref

    @property
    def started(self) -> bool:
        """False for a lazy slot that has not started its actor yet."""
        return self._ref is not None

    @property
    def restarts(self) -> int:
        return self._restarts

    @property
    def stopping(self) -> bool:
        """True once `stop` was called: the actor is going away for good, not being replaced."""
        return self._stopping

    def tell(self, message: Any) -> None:
        """Deliver `message` to the slot's current actor."""
        for _ in range(200):
            try:
                self.ref.tell(message)
                return
            except pykka.ActorDeadError:
                if self._stopping:
                    raise
                time.sleep(0.01)
        raise pykka.ActorDeadError(f"no live actor in slot {self.name}")

    def replace(self, crashed: pykka.Actor, error: BaseException) -> None:
        """Start a successor for `crashed` (after a backoff when it crashes repeatedly)."""
        with self._lock:
            if self._stopping or crashed.actor_ref is not self.ref:
                return
            now = time.monotonic()
            streak = 0 if now - self._last_crash > self._reset_after else self._restarts_in_streak
            self._last_crash = now
            self._restarts_in_streak = streak + 1
            self._restarts += 1
            delay = 0.0 if streak == 0 else min(self._initial_backoff * 2 ** (streak - 1), self._max_backoff)
        logger.bind(actor=self.name).warning("actor {} crashed ({!r}); restarting in {:.2f}s", self.name, error, delay)
        if delay:
            time.sleep(delay)
        with self._lock:
            if self._stopping:
                return
            old, self._ref = self.ref, self._factory(self)
        old.stop(block=False)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the current actor after it has handled what is queued; no further restarts."""
        with self._lock, self._start_lock:
            self._stopping = True
            ref = self._ref
        if ref is None:
            return
        try:
            ref.stop(block=True, timeout=timeout)
        except pykka.Timeout:
            logger.warning("actor {} did not stop within {}s", self.name, timeout)
