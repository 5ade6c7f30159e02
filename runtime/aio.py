"""IOLoop: the process's one asyncio event loop for network I/O, on a thread of its own.

Actors never wait on I/O: a handler starts a coroutine here (`submit`) and returns; the
coroutine's outcome comes back to the actor as a message through a done-callback. Timers
(`call_later`) replace sleeps the same way. Blocking code that must run anyway (synchronous
application providers and tools) goes to the loop's bounded executor (`run_blocking`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from agentstage.runtime._log import logger

__all__ = ["Deadline", "IOCall", "IOLoop"]

T = TypeVar("T")


class IOCall:
    """A coroutine started on the loop by another thread; `cancel` may be called from any thread.

    PERF: starting and settling are its methods, not closures made per call: a call in flight
    holds nothing more than this object and its task.
    """

    __slots__ = ("_loop", "_task", "_cancelled", "_coroutine", "_on_done")

    def __init__(self, loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, Any],
                 on_done: Callable[[Any, BaseException | None], None]) -> None:
        self._loop = loop
        self._task: asyncio.Task[Any] | None = None
        self._cancelled = False
        self._coroutine: Coroutine[Any, Any, Any] | None = coroutine
        self._on_done = on_done

    def _begin(self) -> None:
        """On the loop: start the coroutine as a task, unless the call was cancelled before."""
        coroutine, self._coroutine = self._coroutine, None
        if coroutine is None:
            return
        if self._cancelled:
            coroutine.close()
            return
        self._task = task = self._loop.create_task(coroutine)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        self._on_done(None if error is not None else task.result(), error)

    def cancel(self) -> None:
        """Cancel the coroutine (before it starts, or while it awaits); its callback is then not called."""
        self._cancelled = True
        try:
            self._loop.call_soon_threadsafe(self._cancel_now)
        except RuntimeError:
            pass

    def _cancel_now(self) -> None:
        if self._task is not None:
            self._task.cancel()


class Deadline:
    """A callback due at a time (see `IOLoop.after`); `cancel` from any thread makes it a no-op."""

    __slots__ = ("callback",)

    def __init__(self, callback: Callable[[], Any]) -> None:
        self.callback: Callable[[], Any] | None = callback

    def cancel(self) -> None:
        self.callback = None


class IOLoop:
    """One event loop thread; thread-safe entry points for actors.

    Args:
        name: the thread's name.
        blocking_threads: size of the executor for blocking calls (bounded on purpose).
    """

    def __init__(self, name: str = "agentstage-io", blocking_threads: int = 32, tick: float = 0.05) -> None:
        self.name = name
        self.blocking_threads = max(1, blocking_threads)
        self.tick = tick
        self._deadlines: list[tuple[float, int, Deadline]] = []
        self._deadline_lock = threading.Lock()
        self._order = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._ready = threading.Event()
        self._starts: deque[Callable[[], None]] = deque()
        self._starts_lock = threading.Lock()
        self._woken = False

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.is_running()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the I/O loop is not started")
        return self._loop

    def start(self) -> IOLoop:
        """Start the loop thread (idempotent); returns once the loop runs."""
        if self._thread is not None:
            return self
        with self._starts_lock:
            # NOTE: what was queued for a loop that stopped before it turned went with that loop.
            self._starts.clear()
            self._woken = False
        self._executor = concurrent.futures.ThreadPoolExecutor(self.blocking_threads, thread_name_prefix=f"{self.name}-blocking")
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        self._ready.wait()
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        loop.set_default_executor(self._executor)
        self._loop = loop
        loop.call_soon(self._ready.set)
        loop.call_soon(self._sweep)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def call(self, coroutine: Coroutine[Any, Any, T],
             on_done: Callable[[T | None, BaseException | None], None]) -> IOCall:
        """Start `coroutine` on the loop; `on_done(result, error)` is called on the loop thread when it ends.

        Lighter than `submit` (no thread-safe future): for actors, whose answer is a message anyway.
        """
        loop = self.loop
        call = IOCall(loop, coroutine, on_done)
        with self._starts_lock:
            self._starts.append(call._begin)
            if self._woken:
                return call
            self._woken = True
        try:
            loop.call_soon_threadsafe(self._start_all)
        except RuntimeError:
            with self._starts_lock:
                self._woken = False
            raise
        return call

    def _start_all(self) -> None:
        """Start every coroutine `call` queued since the last wake-up.

        PERF: under load, calls arrive faster than the loop turns; one wake-up (a write to the loop's
        self-pipe from the caller, a read on the loop) then serves them all instead of one each.
        """
        with self._starts_lock:
            self._woken = False
            starts, self._starts = self._starts, deque()
        for begin in starts:
            begin()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `coroutine` on the loop from any thread; its future settles on the loop thread."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def call_later(self, delay: float, callback: Callable[[], Any]) -> None:
        """Call `callback` on the loop thread after `delay` seconds (a timer, never a sleep)."""
        loop = self.loop
        loop.call_soon_threadsafe(loop.call_later, max(0.0, delay), _guarded(callback))

    def after(self, delay: float, callback: Callable[[], Any]) -> Deadline:
        """Call `callback` on the loop thread `delay` seconds from now, give or take one tick.

        PERF: unlike `call_later` this does not wake the loop, so a deadline per tool call costs
        a heap push, not a thread switch; for timeouts, where a tick of lateness does not matter.
        A cancelled deadline stays in the heap until due, then is dropped without a call.
        """
        deadline = Deadline(callback)
        with self._deadline_lock:
            heapq.heappush(self._deadlines, (time.monotonic() + delay, next(self._order), deadline))
        return deadline

    def _sweep(self) -> None:
        now = time.monotonic()
        due = []
        with self._deadline_lock:
            while self._deadlines and self._deadlines[0][0] <= now:
                due.append(heapq.heappop(self._deadlines)[2])
        for deadline in due:
            callback = deadline.callback
            if callback is not None:
                _guarded(callback)()
        self.loop.call_later(self.tick, self._sweep)

    def run_blocking(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """Run blocking `fn(*args)` on the bounded executor; returns its future."""
        if self._executor is None:
            raise RuntimeError("the I/O loop is not started")
        return self._executor.submit(fn, *args)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coroutine` on the loop and wait for it (never call from the loop thread itself)."""
        return self.submit(coroutine).result(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel what is pending, stop the loop and its thread, and release the executor."""
        if self._thread is None or self._loop is None:
            return
        loop = self._loop

        async def cancel_pending() -> None:
            tasks = [t for t in asyncio.all_tasks(loop) if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(cancel_pending(), loop).result(timeout)
        except (concurrent.futures.TimeoutError, RuntimeError):
            logger.warning("I/O loop tasks did not finish cancelling within {}s", timeout)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._thread = self._loop = self._executor = None
        self._ready.clear()


def _guarded(callback: Callable[[], Any]) -> Callable[[], None]:
    def call() -> None:
        try:
            callback()
        except Exception as exc:  # NOTE: a failing timer callback must not stop the loop
            logger.opt(exception=exc).error("timer callback failed")
    return call
