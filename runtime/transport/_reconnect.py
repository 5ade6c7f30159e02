"""The one reconnect policy: wait out a transport outage with capped, jittered backoff.

Once running, a coordinator or worker never gives up on its stream server (an outage is
retryable); only startup is bounded (`wait_until_reachable`).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from agentstage.runtime._log import logger
from agentstage.runtime.transport._base import UNAVAILABLE

__all__ = ["ReconnectBackoff", "Stopped", "until_reachable"]

T = TypeVar("T")


class Stopped(Exception):
    """The stop signal was set while waiting for the transport."""


class ReconnectBackoff:
    """Delays between attempts to reach the server: 0.1 s doubling to 2 s, with jitter; `reset` on success."""

    def __init__(self, initial: float = 0.1, maximum: float = 2.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self._next = initial

    def wait(self, stop: threading.Event | None = None) -> None:
        """Sleep the next delay (cut short when `stop` is set)."""
        delay = self._next * random.uniform(0.75, 1.0)
        self._next = min(self._next * 2, self.maximum)
        if stop is not None:
            stop.wait(delay)
        else:
            time.sleep(delay)

    def reset(self) -> None:
        self._next = self.initial


def until_reachable(call: Callable[[], T], what: str, stop: threading.Event | None = None) -> T:
    """`call()` again and again through outages until it answers; raises Stopped once `stop` is set.

    Args:
        call: one attempt; raises one of UNAVAILABLE while the server is away.
        what: what is being done, for the warning logged at each failed attempt.
        stop: ends the wait (the caller is shutting down).
    """
    backoff = ReconnectBackoff()
    while True:
        try:
            return call()
        except UNAVAILABLE as exc:
            logger.warning("stream server unavailable while {} ({}); retrying", what, exc)
            if stop is not None and stop.is_set():
                raise Stopped(what) from exc
            backoff.wait(stop)
