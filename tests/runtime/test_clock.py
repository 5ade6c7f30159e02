"""Time stamps: utc_now's text is datetime's ISO form with milliseconds, in order, across second boundaries."""

import re
import time
from datetime import UTC, datetime, timedelta

from agentstage.runtime.clock import new_id, parse_ts, short_id, utc_now


def test_utc_now_is_iso_with_milliseconds_and_matches_the_clock() -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    stamp = utc_now()
    after = datetime.now(UTC) + timedelta(milliseconds=1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    assert before <= parse_ts(stamp) <= after


def test_utc_now_sorts_as_text_over_a_second_boundary() -> None:
    stamps = []
    end = time.monotonic() + 1.2
    while time.monotonic() < end:
        stamps.append(utc_now())
        time.sleep(0.003)
    assert stamps == sorted(stamps)
    assert len({s[:19] for s in stamps}) >= 2


def test_new_id_is_32_hex_digits_and_unique() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_ids_made_later_sort_later_and_start_with_the_time_in_milliseconds() -> None:
    first = new_id()
    time.sleep(0.002)
    second = new_id()
    assert first < second
    assert abs(int(second[:12], 16) - time.time_ns() // 1_000_000) < 1000


def test_short_ids_are_random_hex_of_the_asked_length() -> None:
    tags = {short_id() for _ in range(200)}
    assert len(tags) == 200 and all(re.fullmatch(r"[0-9a-f]{8}", t) for t in tags)
    assert len(short_id(5)) == 5
