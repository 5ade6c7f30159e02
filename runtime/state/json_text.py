"""How the stores write JSON columns: compact text, with anything JSON has no type for written as its `str`."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["json_text", "sorted_json_text"]

# PERF: msgspec encodes in C; event data and queue-event details are a no-op run's largest encoding cost.
_ENCODER = msgspec.json.Encoder(enc_hook=str)
_SORTED = msgspec.json.Encoder(enc_hook=str, order="sorted")


def json_text(value: Any) -> str:
    """`value` as compact JSON text (non-finite floats become null, so the text is always valid JSON)."""
    return _ENCODER.encode(value).decode()


def sorted_json_text(value: Any) -> str:
    """Like `json_text`, with object keys sorted (a stable text for comparing bodies)."""
    return _SORTED.encode(value).decode()
