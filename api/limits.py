"""Limits on live event streams: per API key and per process, refused with a 429 past either."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable

from agentstage.api.errors import FieldError

__all__ = ["StreamLease", "StreamLimits"]

RETRY_AFTER = 5


class StreamLease:
    """One open stream's slot; `release` gives it back (once), `end` asks the stream to finish now."""

    def __init__(self, limits: StreamLimits, key_id: str) -> None:
        self.key_id = key_id
        self.on_end: tuple[asyncio.AbstractEventLoop, Callable[[], None]] | None = None
        self._limits = limits
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._limits._release(self)

    def end(self) -> None:
        """Call the stream's end callback on its own loop (safe from any thread)."""
        if self.on_end is not None:
            loop, callback = self.on_end
            try:
                loop.call_soon_threadsafe(callback)
            except RuntimeError:
                pass


class StreamLimits:
    """Counts open streams by key and in total; `acquire` raises a 429 `FieldError` past a limit."""

    def __init__(self, per_key: int, total: int) -> None:
        self.per_key = per_key
        self.total = total
        self._by_key: Counter[str] = Counter()
        self._open: set[StreamLease] = set()
        self._lock = threading.Lock()

    def acquire(self, key_id: str) -> StreamLease:
        with self._lock:
            if len(self._open) >= self.total:
                raise _refusal(f"the server holds {self.total} live event streams, its limit", "total")
            if self._by_key[key_id] >= self.per_key:
                raise _refusal(f"this API key holds {self.per_key} live event streams, its limit; "
                               "close one first", "per_key")
            lease = StreamLease(self, key_id)
            self._by_key[key_id] += 1
            self._open.add(lease)
        return lease

    def open_count(self, key_id: str | None = None) -> int:
        """Streams open now (of one key when given)."""
        with self._lock:
            return self._by_key[key_id] if key_id is not None else len(self._open)

    def end_all(self) -> None:
        """Ask every open stream to finish (server shutdown)."""
        with self._lock:
            leases = list(self._open)
        for lease in leases:
            lease.end()

    def _release(self, lease: StreamLease) -> None:
        with self._lock:
            if lease in self._open:
                self._open.discard(lease)
                self._by_key[lease.key_id] -= 1
                if self._by_key[lease.key_id] <= 0:
                    del self._by_key[lease.key_id]


def _refusal(description: str, limit: str) -> FieldError:
    return FieldError(429, title="Too many event streams", description=description,
                      errors={"stream": [f"{limit} limit of live event streams reached"]},
                      headers={"Retry-After": str(RETRY_AFTER)})
