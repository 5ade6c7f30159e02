"""Reaching Redis when a coordinator or worker starts: bounded by a timeout, cut short by a stop signal.

Once running, a node waits out Redis outages forever (they are retryable); at start it does not,
so a process pointed at the wrong Redis exits with one line instead of retrying in silence.
"""

from __future__ import annotations

import threading
import time

import redis

from agentstage.runtime.errors import ConfigError, StoreError
from agentstage.runtime.streams import REDIS_DOWN, ReconnectBackoff

__all__ = ["check_url", "wait_for_redis"]


def check_url(url: str) -> None:
    """Raise ConfigError naming AGENTSTAGE_REDIS_URL when `url` is not a Redis URL."""
    try:
        redis.Redis.from_url(url).close()
    except ValueError as exc:
        raise ConfigError("AGENTSTAGE_REDIS_URL", url, f"not a Redis URL: {exc}") from None


def wait_for_redis(url: str, timeout: float, stop: threading.Event | None = None) -> bool:
    """PING `url` until it answers (True) or `stop` is set (False).

    Raises StoreError after `timeout` seconds without an answer, or at once when Redis refuses the
    credentials; ConfigError for a malformed URL.
    """
    check_url(url)
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    backoff = ReconnectBackoff(maximum=1.0)
    deadline = time.monotonic() + timeout
    stop = stop or threading.Event()
    try:
        while not stop.is_set():
            try:
                client.ping()
                return True
            except redis.AuthenticationError as exc:
                raise StoreError(url, f"Redis refused the credentials: {exc}") from None
            except REDIS_DOWN as exc:
                if time.monotonic() >= deadline:
                    raise StoreError(url, f"cannot reach Redis within {timeout:g}s "
                                          f"(AGENTSTAGE_STARTUP_TIMEOUT): {exc}") from None
            backoff.wait(stop)
        return False
    finally:
        client.close()
