"""Regular expressions given by callers, run with RE2: matching is linear in the text, counted
repetitions and program size are bounded at compile time, so no pattern can backtrack for ever.

RE2 syntax is Python's without backreferences and lookaround; flags are the letters i, m, s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools.limits import MAX_TEXT

__all__ = ["MAX_PATTERN", "Pattern", "compile_pattern"]

MAX_PATTERN = 1000


@functools.cache
def _options() -> Any:
    """RE2's options for caller patterns (quiet, 8 MiB per program); re2 loads with the first pattern."""
    import re2

    options = re2.Options()
    options.log_errors = False
    options.max_mem = 8 << 20
    return options


class Pattern:
    """A compiled caller pattern; `replace` bounds the size of what it builds."""

    def __init__(self, tool: str, compiled: Any) -> None:
        self.tool = tool
        self._compiled = compiled

    def search(self, text: str) -> Any:
        return self._compiled.search(text)

    def finditer(self, text: str) -> Iterator[Any]:
        return self._compiled.finditer(text)

    def split(self, text: str) -> list[str]:
        return self._compiled.split(text)

    def replace(self, replacement: str | Callable[[Any], str], text: str, limit: int = MAX_TEXT) -> tuple[str, int]:
        """`subn` that stops with a ToolError once the result would pass `limit` characters."""
        size = len(text)

        def expand(match: Any) -> str:
            nonlocal size
            out = replacement(match) if callable(replacement) else match.expand(replacement)
            size += len(out) - (match.end() - match.start())
            if size > limit:
                raise ToolError(self.tool, f"the replaced text would be longer than {limit} characters")
            return out

        return self._compiled.subn(expand, text)


def compile_pattern(tool: str, pattern: str, flags: str = "") -> Pattern:
    """Compile `pattern` (with i/m/s flags); a ToolError names what is wrong with it."""
    if len(pattern) > MAX_PATTERN:
        raise ToolError(tool, f"pattern longer than {MAX_PATTERN} characters")
    letters = "".join(sorted(set(flags) & set("ims")))
    import re2

    try:
        return Pattern(tool, re2.compile(f"(?{letters}){pattern}" if letters else pattern, _options()))
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ToolError(tool, f"invalid pattern {pattern!r}: {reason} (RE2 syntax: no backreferences or "
                              "lookaround)") from None
