"""What a guardrail is: a named check of one text that may block it, warn about it or redact it."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = ["ACTIONS", "DIRECTIONS", "Finding", "Guard", "normalize"]

ACTIONS = ("block", "warn", "redact")
DIRECTIONS = ("input", "output", "tool")
"""input: user messages and tool results on their way to the model; output: the model's answer;
tool: a tool call (its name and arguments) before the tool runs."""

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u034f\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062"
                                    "\u2063\u2064\ufeff"), None)


@dataclass(frozen=True, slots=True)
class Finding:
    """Why a guard objects to a text; `redacted` is the text to use instead when the action is redact."""

    reason: str
    redacted: str | None = None


class Guard:
    """A check for some directions with a default action; subclasses implement `inspect`."""

    name: str = ""
    description: str = ""
    directions: tuple[str, ...] = ("input", "output")
    default_action: str = "block"
    configurable: bool = False
    """Whether the guard takes a value (`name=value`)."""
    redacts: bool = False
    """Whether `inspect` gives a redacted text (only then is `redact` an action for it)."""

    def __init__(self, action: str | None = None, value: str = "") -> None:
        self.action = action or self.default_action
        if self.action not in ACTIONS:
            raise ValueError(f"guardrail {self.name}: action must be one of {', '.join(ACTIONS)}, not {self.action!r}")
        if self.action == "redact" and not self.redacts:
            raise ValueError(f"guardrail {self.name} cannot redact; use block or warn")
        if value and not self.configurable:
            raise ValueError(f"guardrail {self.name} takes no value")

    def applies_to(self, direction: str) -> bool:
        return direction in self.directions

    def inspect(self, text: str) -> Finding | None:
        """A finding when `text` breaks this guard, else None."""
        raise NotImplementedError

    def inspect_tool(self, name: str) -> Finding | None:
        """A finding when a call of the tool `name` must not run; only tool-direction guards override it."""
        return None


def normalize(text: str) -> str:
    """The text as matching sees it: NFKC (full-width and styled letters fold), invisible characters removed,
    case folded and whitespace runs collapsed, so spacing and look-alike tricks do not slip past a check."""
    folded = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()
    return " ".join(folded.split())

