"""json_text: the stores' JSON columns are compact, always valid JSON, and keep what JSON has no type for as text."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from agentstage.runtime.state.json_text import json_text, sorted_json_text


class Opaque:
    def __str__(self) -> str:
        return "opaque thing"


def test_compact_json_with_unknown_values_as_their_text():
    value = {"b": [1, 2.5, None, True], "a": {"nested": "é"}, "odd": Opaque(), "when": datetime(2026, 1, 2, tzinfo=UTC)}
    text = json_text(value)
    assert " " not in text.replace("opaque thing", "")
    assert json.loads(text) == {"b": [1, 2.5, None, True], "a": {"nested": "é"}, "odd": "opaque thing",
                                "when": "2026-01-02T00:00:00Z"}


def test_non_finite_numbers_become_null_so_the_column_stays_valid_json():
    assert json.loads(json_text({"x": math.nan, "y": math.inf}), parse_constant=lambda _: "invalid") == {
        "x": None, "y": None}


def test_sorted_text_is_the_same_for_the_same_object_in_any_key_order():
    assert sorted_json_text({"b": 1, "a": {"d": 2, "c": 3}}) == sorted_json_text({"a": {"c": 3, "d": 2}, "b": 1}) \
        == '{"a":{"c":3,"d":2},"b":1}'
