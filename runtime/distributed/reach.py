"""Reaching the stream server when a coordinator or worker starts: bounded by a timeout, cut short by a stop signal.

Once running, a node waits out outages forever (they are retryable); at start it does not, so a
process pointed at the wrong Redis exits with one line instead of retrying in silence.
"""

from __future__ import annotations

import threading
import time

import redis

from agentstage.runtime.errors import ConfigError, StoreError
from agentstage.runtime.transport import UNAVAILABLE, ReconnectBackoff, StreamTransport, check_redis_url

__all__ = ["check_url", "wait_for_redis"]


def check_url(url: str) -> None:
    """Raise ConfigError naming AGENTSTAGE_REDIS_URL when `url` is not a Redis URL."""
    try:
        check_redis_url(url)
    except ValueError as exc:
        raise ConfigError("AGENTSTAGE_REDIS_URL", url, f"not a Redis URL: {exc}") from None


def wait_for_redis(transport: StreamTransport, where: str, timeout: float,
                   stop: threading.Event | None = None) -> bool:
    """PING `transport` until it answers (True) or `stop` is set (False).

    Raises StoreError naming `where` after `timeout` seconds without an answer, or at once when
    Redis refuses the credentials.
    """
    backoff = ReconnectBackoff(maximum=1.0)
    deadline = time.monotonic() + timeout
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            transport.ping()
            return True
        except redis.AuthenticationError as exc:
            raise StoreError(where, f"Redis refused the credentials: {exc}") from None
        except UNAVAILABLE as exc:
            if time.monotonic() >= deadline:
                raise StoreError(where, f"cannot reach Redis within {timeout:g}s "
                                        f"(AGENTSTAGE_STARTUP_TIMEOUT): {exc}") from None
        backoff.wait(stop)
    return False
