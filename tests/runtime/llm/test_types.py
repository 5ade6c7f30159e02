"""Usage arithmetic: tokens a server did not report stay unknown through a run's sum."""

from __future__ import annotations

from agentstage.runtime.llm.types import UNREPORTED, LLMResponse, Usage


def test_a_reported_call_shows_its_counts() -> None:
    assert Usage(3, 1).reported and Usage(3, 1).call_view() == {"input_tokens": 3, "output_tokens": 1}


def test_an_unreported_call_is_null_not_zero() -> None:
    assert not UNREPORTED.reported and UNREPORTED.call_view() == {"input_tokens": None, "output_tokens": None}


def test_a_run_sums_what_was_reported_and_counts_what_was_not() -> None:
    run = Usage() + Usage(3, 1) + UNREPORTED + Usage(2, 2)
    assert (run.input_tokens, run.output_tokens, run.unreported) == (5, 3, 1)
    assert run.run_view() == {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8, "unreported_calls": 1}
    assert Usage(5, 3).run_view() == {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}


def test_length_finish_reasons_of_every_vendor_mean_truncated() -> None:
    assert all(LLMResponse(finish_reason=r).truncated for r in ("length", "max_tokens", "MAX_TOKENS"))
    assert not LLMResponse(finish_reason="stop").truncated
