"""Reply: the future of a run's result, light enough to hold thousands at once.

pykka's ThreadingFuture allocates a condition (with its waiter queue) per future; a run's
reply is usually waited on by at most one thread, often by none, and often only after it was
set. A Reply shares one lock among all replies and makes a condition only for a thread that
has to wait. An event loop awaits one with `settled`, which holds no thread.
"""

from __future__ import annotations

import asyncio
import queue
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

import pykka

from agentstage.runtime._log import logger

__all__ = ["Reply", "settled"]

T = TypeVar("T")
_LOCK = threading.Lock()
_UNSET = object()


class Reply(pykka.Future[T]):
    """A future set once by any thread and read with `get(timeout=...)`, like pykka's ThreadingFuture."""

    def __init__(self) -> None:
        super().__init__()
        self._value: Any = _UNSET
        self._exc_info: tuple[type[BaseException], BaseException, TracebackType | None] | None = None
        self._waiting: threading.Condition | None = None
        self._callbacks: list[Callable[[], None]] | None = None

    def add_done_callback(self, callback: Callable[[], None]) -> None:
        """Call `callback()` once the reply is set: at once if it is, else on the thread that sets it
        (so it must be quick and must not block)."""
        with _LOCK:
            if self._value is _UNSET:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(callback)
                return
        _call(callback)

    def get(self, *, timeout: float | None = None) -> T:
        try:
            return super().get(timeout=timeout)
        except NotImplementedError:
            pass
        deadline = None if timeout is None else time.monotonic() + timeout
        with _LOCK:
            while self._value is _UNSET:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0.0:
                    raise pykka.Timeout(f"{timeout} seconds")
                if self._waiting is None:
                    self._waiting = threading.Condition(_LOCK)
                self._waiting.wait(timeout=remaining)
        if self._exc_info is not None:
            _, error, traceback = self._exc_info
            raise error.with_traceback(traceback)
        return self._value

    def set(self, value: Any = None) -> None:
        self._settle(value, None)

    def set_exception(self, exc_info: Any = None) -> None:
        if exc_info is None:
            exc_info = sys.exc_info()
        error = exc_info[1] if exc_info[1] is not None else exc_info[0]()
        self._settle(None, (type(error), error, exc_info[2]))

    def _settle(self, value: Any, exc_info: Any) -> None:
        with _LOCK:
            if self._value is not _UNSET or self._get_hook is not None:
                raise queue.Full
            self._exc_info = exc_info
            self._value = value
            if self._waiting is not None:
                self._waiting.notify_all()
            callbacks, self._callbacks = self._callbacks, None
        for callback in callbacks or ():
            _call(callback)


def _call(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:
        # NOTE: a callback runs on whichever thread settles the reply (often the store's); it must not stop it.
        logger.opt(exception=True).error("a reply's done callback failed")


async def settled(future: pykka.Future[T], timeout: float | None = None) -> T:
    """Await `future` on the running event loop; raises pykka.Timeout after `timeout` seconds.

    A Reply wakes the loop when it is set, so thousands of awaited runs hold no thread; any other
    pykka future is waited on in the loop's executor.
    """
    loop = asyncio.get_running_loop()
    if not isinstance(future, Reply):
        return await loop.run_in_executor(None, lambda: future.get(timeout=timeout))
    waiter: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        try:
            loop.call_soon_threadsafe(_resolve, waiter)
        except RuntimeError:
            pass  # NOTE: the loop closed while the run went on; nobody awaits it any more

    future.add_done_callback(wake)
    try:
        await asyncio.wait_for(waiter, timeout)
    except TimeoutError:
        raise pykka.Timeout(f"{timeout} seconds") from None
    return future.get(timeout=0)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
