"""Time stamps and ids in the one format every record uses (UTC ISO-8601 with milliseconds)."""

from __future__ import annotations

import time
import secrets
from datetime import UTC, datetime, timedelta

__all__ = ["new_id", "parse_ts", "utc_ago", "utc_now"]


_second: tuple[int, str] = (-1, "")


def utc_now() -> str:
    """The current UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`, which sorts as text.

    PERF: every event is stamped; the text up to the second is formatted once per second.
    """
    global _second
    now = time.time_ns() // 1_000_000
    second, millis = divmod(now, 1000)
    cached, prefix = _second
    if cached != second:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second = (second, prefix)
    return f"{prefix}.{millis:03d}Z"


def utc_ago(seconds: float) -> str:
    """The UTC time `seconds` ago, in `utc_now`'s format."""
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ts(value: str) -> datetime:
    """Parse a time stamp written by `utc_now` (or any ISO-8601 string) as an aware datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def new_id() -> str:
    """A new id for runs, sessions, tasks and records: 32 hex digits, the first 12 the Unix time in milliseconds
    and the other 20 random (the layout of UUIDv7).

    PERF: ids made later sort later, so a burst's rows go to the same few index pages of the store instead of
    one random page per row (fewer pages written per commit). Not a secret: keys and tokens use `secrets`.
    """
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def short_id(length: int = 8) -> str:
    """A short random hex tag, for names unique within something else (a parent run's children, an owner);
    not a prefix of `new_id`, whose first digits are a time."""
    return secrets.token_hex((length + 1) // 2)[:length]
