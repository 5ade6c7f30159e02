"""Schedule timings: 5-field cron in a time zone (DST both ways), intervals from their start, bad input named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agentstage.runtime.errors import InvalidArgument
from agentstage.runtime.schedules.timing import MAX_COUNTED, parse_timing


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_cron_ticks_follow_the_zone_s_wall_clock_across_summer_time() -> None:
    paris = parse_timing("0 9 * * *", "Europe/Paris")
    assert paris.next_after(utc(2026, 1, 1), utc(2026, 3, 27, 12)) == utc(2026, 3, 28, 8)  # CET, UTC+1
    assert paris.next_after(utc(2026, 1, 1), utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 7)  # CEST, UTC+2


def test_a_time_skipped_by_the_spring_change_fires_once_just_after_the_gap() -> None:
    paris = parse_timing("30 2 * * *", "Europe/Paris")
    # 2026-03-29 02:30 does not exist in Paris: clocks go from 02:00 to 03:00 (01:00 UTC)
    assert paris.next_after(utc(2026, 1, 1), utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 1)
    assert paris.next_after(utc(2026, 1, 1), utc(2026, 3, 29, 1)) == utc(2026, 3, 30, 0, 30)


def test_a_time_repeated_by_the_autumn_change_fires_once() -> None:
    new_york = parse_timing("30 1 * * *", "America/New_York")
    # 2026-11-01 01:30 happens twice in New York (EDT 05:30 UTC, then EST 06:30 UTC)
    first = new_york.next_after(utc(2026, 1, 1), utc(2026, 10, 31, 12))
    assert first == utc(2026, 11, 1, 5, 30)
    assert new_york.next_after(utc(2026, 1, 1), first) == utc(2026, 11, 2, 6, 30)


def test_latest_tick_at_or_before_now_and_none_before_the_first() -> None:
    every5 = parse_timing("*/5 * * * *")
    assert every5.latest(utc(2026, 1, 1), utc(2026, 1, 1, 0, 12, 30)) == utc(2026, 1, 1, 0, 10)
    assert every5.latest(utc(2026, 1, 1), utc(2026, 1, 1, 0, 10)) == utc(2026, 1, 1, 0, 10)
    assert every5.latest(utc(2026, 1, 1, 0, 1), utc(2026, 1, 1, 0, 4)) is None


def test_interval_ticks_count_from_the_start_and_ignore_zones() -> None:
    every = parse_timing(None, "Asia/Tokyo", 90)
    start = utc(2026, 3, 29, 0, 59)
    assert every.latest(start, utc(2026, 3, 29, 1, 2)) == utc(2026, 3, 29, 1, 2)
    assert every.latest(start, utc(2026, 3, 29, 1, 0)) is None
    assert every.next_after(start, utc(2026, 3, 29, 1, 2)) == utc(2026, 3, 29, 1, 3, 30)
    assert every.count_between(start, utc(2026, 3, 29, 1, 5)) == 3


def test_missed_ticks_are_counted_up_to_a_bound() -> None:
    assert parse_timing("* * * * *").count_between(utc(2026, 1, 1), utc(2026, 1, 1, 0, 5)) == 4
    assert parse_timing("* * * * *").count_between(utc(2026, 1, 1), utc(2026, 1, 8)) == MAX_COUNTED


def test_names_and_weekday_ranges_are_accepted_in_any_case() -> None:
    assert parse_timing("0 9 * jan mon-fri").cron == "0 9 * JAN MON-FRI"


@pytest.mark.parametrize(("cron", "zone", "every", "field"), [
    ("* * * *", "UTC", None, "cron"),
    ("* * * * * *", "UTC", None, "cron"),
    ("61 * * * *", "UTC", None, "cron"),
    ("0 0 30 2 *", "UTC", None, "cron"),
    ("* * * * *", "Mars/Olympus", None, "timezone"),
    ("* * * * *", "../../etc/passwd", None, "timezone"),
    ("*/0 * * * *", "UTC", None, "cron"),
    (None, "UTC", None, "cron"),
    ("* * * * *", "UTC", 60, "cron"),
    (None, "UTC", 0.5, "every_s"),
    (None, "UTC", float("nan"), "every_s"),
])
def test_bad_timings_name_the_field(cron, zone, every, field) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_timing(cron, zone, every)
    assert caught.value.field == field
