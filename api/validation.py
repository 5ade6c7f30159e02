"""What the API refuses at the edge, before a schema or the store sees it: JSON a reader cannot read back.

Python's JSON parser accepts `NaN`, `Infinity`, `1e999`, lone UTF-16 surrogates, integers of
any size and any nesting depth; stored, they break readers (bare NaN is not JSON, a surrogate
cannot be encoded, SQLite holds 64-bit integers) or the parser itself (deep nesting). A body
is parsed with non-finite numbers marked, then walked once; each problem is reported under its
field's dotted path, so the answer is a 422 naming the field and nothing is half-written.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["MAX_DEPTH", "json_problems", "loads"]

MAX_DEPTH = 64
MAX_INT = 2**63 - 1


class _NonFinite(float):
    """A `NaN`/`Infinity` literal, kept as a marker so the walk can name where it was."""


def _constant(name: str) -> float:
    return _NonFinite("nan")


def loads(text: str | bytes) -> Any:
    """`json.loads` that marks NaN/Infinity and turns nesting too deep to parse into a ValueError."""
    try:
        return json.loads(text, parse_constant=_constant)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None


def json_problems(value: Any) -> dict[str, list[str]]:
    """Each field path of `value` that a reader could not take back, with why (empty when all is well)."""
    problems: dict[str, list[str]] = {}
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        where = path or "_schema"
        if depth > MAX_DEPTH:
            problems.setdefault(where, []).append(f"nested deeper than {MAX_DEPTH} levels")
            continue
        if isinstance(item, dict):
            for key, child in item.items():
                name = f"{path}.{key}" if path else str(key)
                if not _encodable(key):
                    problems.setdefault(_printable(name), []).append("the name holds a lone surrogate")
                    continue
                stack.append((child, name, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{path}.{n}" if path else str(n), depth + 1) for n, child in enumerate(item))
        elif isinstance(item, str):
            if not _encodable(item):
                problems.setdefault(where, []).append("holds a lone surrogate (not valid Unicode)")
        elif isinstance(item, float):
            if isinstance(item, _NonFinite) or not math.isfinite(item):
                problems.setdefault(where, []).append("not a finite number (NaN and Infinity are not JSON)")
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INT:
            problems.setdefault(where, []).append(f"integer out of range (at most {MAX_INT} in size)")
    return problems


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode()
