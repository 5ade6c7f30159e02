"""The one factory of Redis clients: timeouts, health checks and built-in retries chosen in one place."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

__all__ = ["check_redis_url", "redis_client"]


def redis_client(url: str, *, timeout: float = 5.0, connect_timeout: float = 2.0, decode_responses: bool = False,
                 fail_fast: bool = False) -> redis.Redis:
    """A client for `url`; raises ValueError for a malformed URL.

    Args:
        timeout: socket timeout in seconds; longer than any blocking read (at most 2 s) issued on it.
        connect_timeout: seconds to wait for a connection.
        decode_responses: answer str instead of bytes (the state stores).
        fail_fast: no built-in retries, for callers that decide themselves what a failure means. The
            others keep redis-py's short retries, and wait out longer outages with `reconnect`.
    """
    kwargs = {"retry": Retry(NoBackoff(), 0)} if fail_fast else {}
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=connect_timeout,
                                health_check_interval=15, decode_responses=decode_responses, **kwargs)


def check_redis_url(url: str) -> None:
    """Raise ValueError when `url` is not a Redis URL (no connection is made)."""
    redis.Redis.from_url(url).close()
