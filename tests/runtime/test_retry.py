"""RetryPolicy: which errors are retried, how long it waits, when it gives up."""

import pytest

from agentstage.runtime.errors import FatalError, RateLimited, TransientError
from agentstage.runtime.retry import RetryPolicy


def test_backoff_grows_by_the_multiplier_up_to_the_cap_without_jitter() -> None:
    policy = RetryPolicy(max_attempts=6, initial_backoff=0.5, multiplier=2, max_backoff=3, jitter=0)
    error = TransientError("p", "x")
    assert [policy.delay(n, error) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_only_shortens_the_delay() -> None:
    policy = RetryPolicy(initial_backoff=1, jitter=0.25)
    assert policy.delay(1, TransientError("p", "x"), rng=lambda: 1.0) == 0.75
    assert policy.delay(1, TransientError("p", "x"), rng=lambda: 0.0) == 1.0


def test_retry_after_is_honoured_within_bounds() -> None:
    policy = RetryPolicy(initial_backoff=0.1, jitter=0, max_retry_after=60)
    assert policy.delay(1, RateLimited("p", "slow", retry_after=7)) == 7
    assert policy.delay(1, RateLimited("p", "slow", retry_after=3600)) == 0.1


def test_call_retries_transient_errors_then_succeeds() -> None:
    attempts, waits = [], []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise TransientError("p", "503")
        return "ok"

    assert RetryPolicy(max_attempts=3, initial_backoff=0.2, jitter=0).call(flaky, sleep=waits.append) == "ok"
    assert waits == [0.2, 0.4]


def test_call_never_retries_fatal_errors() -> None:
    waits = []

    def fatal():
        raise FatalError("p", "bad key")

    with pytest.raises(FatalError):
        RetryPolicy().call(fatal, sleep=waits.append)
    assert waits == []


def test_invalid_policies_are_rejected() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=2)


def test_defaults_match_the_official_sdks() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.initial_backoff, policy.multiplier, policy.max_backoff) == (3, 0.5, 2.0, 8.0)
    error = TransientError("p", "x")
    assert policy.delay(1, error, rng=lambda: 0.0) == 0.5 and policy.delay(1, error, rng=lambda: 1.0) == 0.375
    assert policy.delay(10, error, rng=lambda: 0.0) == 8.0


def test_a_transient_errors_retry_after_is_honoured_but_zero_is_not() -> None:
    policy = RetryPolicy(initial_backoff=0.1, jitter=0)
    assert policy.delay(1, TransientError("p", "503", retry_after=2.5)) == 2.5
    assert policy.delay(1, RateLimited("p", "slow", retry_after=0)) == 0.1
