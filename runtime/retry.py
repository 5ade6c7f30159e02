"""Retry policy for provider calls: exponential backoff with jitter, honouring retry-after."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from agentstage.runtime.errors import ProviderError

__all__ = ["RetryPolicy"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before trying a failed call again.

    Only provider errors whose type is retryable are retried (`TransientError`, `RateLimited`). A
    server-sent `retry_after` is obeyed when 0 < it <= `max_retry_after` seconds; otherwise the
    computed backoff is used.
    Backoff for retry n (1-based): `min(initial * multiplier**(n-1), max_backoff)`, scaled by a
    random factor in `[1 - jitter, 1]` so that many clients do not retry in step.

    The defaults are those of the official OpenAI and Anthropic Python SDKs: 2 retries, 0.5 s
    initial delay doubling to at most 8 s, jitter factor U(0.75, 1), retry-after honoured up to 60 s.
    """

    max_attempts: int = 3
    initial_backoff: float = 0.5
    multiplier: float = 2.0
    max_backoff: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise ValueError("backoffs must be >= 0 and multiplier >= 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be within [0, 1]")

    def retryable(self, error: BaseException) -> bool:
        """Whether this kind of error is worth another call (its type's `retryable`, for provider errors)."""
        return isinstance(error, ProviderError) and error.retryable

    def delay(self, retry: int, error: BaseException, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number `retry` (1 = first retry) after `error`."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None and 0 < retry_after <= self.max_retry_after:
            return float(retry_after)
        base = min(self.initial_backoff * self.multiplier ** (retry - 1), self.max_backoff)
        return base * (1 - self.jitter * rng())

    def call(
        self,
        fn: Callable[[], T],
        *,
        sleep: Callable[[float], object],
        on_retry: Callable[[int, BaseException, float], None] | None = None,
    ) -> T:
        """Call `fn` until it succeeds, fails fatally, or attempts run out (last error raised)."""
        attempt = 1
        while True:
            try:
                return fn()
            except Exception as error:
                if attempt >= self.max_attempts or not self.retryable(error):
                    raise
                wait = self.delay(attempt, error)
                if on_retry is not None:
                    on_retry(attempt, error, wait)
                sleep(wait)
                attempt += 1
