"""The live line of `--progress`: how long the pending model call, tool call or node has taken so far."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["LiveLine"]

TICK = 0.25
"""Seconds between redraws of the live line (and the longest wait for the next event)."""


class LiveLine:
    """Event lines on `stream`, and under them, on a terminal, one line redrawn in place while a call is pending.

    Off a terminal nothing is redrawn; the line that ends a pending call carries its elapsed time either way.
    """

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty()
        self._clock = clock
        self._label: str | None = None
        self._since = 0.0
        self._drawn = False

    def start(self, label: str) -> None:
        """A call is pending from now: `label` says what waits (`waiting for the model`)."""
        self._label, self._since = label, self._clock()

    def stop(self) -> float | None:
        """The pending call ended: its elapsed seconds (None when nothing was pending)."""
        if self._label is None:
            return None
        self._label = None
        return self._clock() - self._since

    def tick(self) -> None:
        """Redraw the live line with the elapsed time (a terminal only)."""
        if self.live and self._label is not None:
            self.stream.write(f"\r\x1b[K  ... {self._label} {self._clock() - self._since:.1f}s")
            self.stream.flush()
            self._drawn = True

    def clear(self) -> None:
        """Remove the live line, so other output starts at the beginning of a line."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self._drawn = False

    def print(self, line: str) -> None:
        """Print an event line above the live line."""
        self.clear()
        self.stream.write(line + "\n")
        self.stream.flush()
