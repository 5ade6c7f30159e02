"""Bounds shared by the built-in tools: input sizes and JSON depth, checked before any work is done,
so a hostile argument costs a clear tool error instead of the process's CPU or memory."""

from __future__ import annotations

import json
from typing import Any

from agentstage.runtime.errors import ToolError

__all__ = ["MAX_ITEMS", "MAX_JSON_DEPTH", "MAX_TEXT", "bounded", "check_depth", "load_json"]

MAX_TEXT = 1_000_000
"""Characters of one text argument (and of a text a tool produces)."""
MAX_ITEMS = 10_000
"""Entries of one list argument or of a list a tool returns."""
MAX_JSON_DEPTH = 64
"""Nesting of a JSON document a tool reads."""


def bounded(tool: str, name: str, value: Any, limit: int = MAX_TEXT) -> Any:
    """`value` when its length is at most `limit`; a ToolError naming the argument otherwise."""
    if value is not None and len(value) > limit:
        raise ToolError(tool, f"{name} is longer than {limit} {'characters' if isinstance(value, str) else 'items'}")
    return value


def check_depth(tool: str, value: Any, limit: int = MAX_JSON_DEPTH) -> Any:
    """`value` when its lists and objects nest at most `limit` deep (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > limit:
                raise ToolError(tool, f"JSON nested deeper than {limit} levels")
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return value


def load_json(tool: str, text: str, name: str = "document") -> Any:
    """Parse JSON text within the size and depth bounds; ValueError when it is not JSON."""
    bounded(tool, name, text)
    try:
        return check_depth(tool, json.loads(text))
    except RecursionError:
        raise ToolError(tool, f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
