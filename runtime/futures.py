"""Reply: the future of a run's result, light enough to hold thousands at once.

pykka's ThreadingFuture allocates a condition (with its waiter queue) per future; a run's
reply is usually waited on by at most one thread, often by none, and often only after it was
set. A Reply shares one lock among all replies and makes a condition only for a thread that
has to wait.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from types import TracebackType
from typing import Any, TypeVar

import pykka

__all__ = ["Reply"]

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
