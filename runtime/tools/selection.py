"""The tool selection grammar: `@bundle`, `*`, plain names; duplicates dropped, first order kept."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from agentstage.runtime.errors import NotFound

__all__ = ["build_selection", "parse_selection"]


def parse_selection(text: str | Iterable[str]) -> list[str]:
    """Split a comma-separated selection (`"@default, json_parser"`) into trimmed, non-empty entries."""
    parts = text.split(",") if isinstance(text, str) else [p for item in text for p in str(item).split(",")]
    return [part.strip() for part in parts if part.strip()]


def build_selection(
    entries: str | Iterable[str], tool_names: Iterable[str], bundles: Mapping[str, Sequence[str]]
) -> list[str]:
    """Expand a selection to tool names, in first-seen order without duplicates.

    `@name` expands a bundle, `*` every tool (sorted), anything else names a tool.
    Raises NotFound("bundle" | "tool", name) for an unknown bundle or tool, so a bad
    selection fails when the agent is built, not when the model first calls the tool.
    """
    known = set(tool_names)
    chosen: dict[str, None] = {}
    for entry in parse_selection(entries):
        if entry == "*":
            expanded: Iterable[str] = sorted(known)
        elif entry.startswith("@"):
            if entry[1:] not in bundles:
                raise NotFound("bundle", entry[1:])
            expanded = bundles[entry[1:]]
        else:
            expanded = (entry,)
        for name in expanded:
            if name not in known:
                raise NotFound("tool", name)
            chosen.setdefault(name, None)
    return list(chosen)
