"""Retryability is a property of the error type, read from an instance or from a type named on the wire."""

from __future__ import annotations

import pytest

from agentstage.runtime.errors import (
    ConfigError,
    FatalError,
    MaxIterationsExceeded,
    NotFound,
    RateLimited,
    RunAborted,
    StoreError,
    ToolArgumentsError,
    TransientError,
    retryable,
)
from agentstage.runtime.retry import RetryPolicy


@pytest.mark.parametrize("error", [TransientError("p", "x"), RateLimited("p", "x"), StoreError("f", "full"),
                                   KeyError("crash")])
def test_transient_failures_and_crashes_are_retryable(error):
    assert retryable(error) and retryable(type(error).__name__)


@pytest.mark.parametrize("error", [FatalError("p", "x"), MaxIterationsExceeded("r", 3), RunAborted("stop"),
                                   NotFound("run", "r"), ToolArgumentsError("t", ["bad"]), ConfigError("S", 1, "no")])
def test_final_failures_are_not_retryable(error):
    assert not retryable(error) and not retryable(type(error).__name__)


def test_an_application_error_type_decides_for_itself():
    class QuotaExhausted(FatalError):
        retryable = True

    assert retryable(QuotaExhausted("p", "x")) and retryable("QuotaExhausted")


def test_the_retry_policy_reads_the_same_property_for_provider_errors():
    policy = RetryPolicy()
    assert policy.retryable(TransientError("p", "x")) and not policy.retryable(FatalError("p", "x"))
    assert not policy.retryable(StoreError("f", "full"))
