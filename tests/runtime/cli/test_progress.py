"""The live line of --progress: redrawn with the elapsed time on a terminal, never off one."""

from __future__ import annotations

import io

from agentstage.runtime.cli.progress import LiveLine


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_on_a_terminal_the_pending_call_is_redrawn_with_its_elapsed_time() -> None:
    stream, clock = Terminal(), Clock()
    line = LiveLine(stream, clock)
    line.print("  [  2] llm.request")
    line.start("waiting for the model")
    clock.now += 1.5
    line.tick()
    clock.now += 1.0
    line.tick()
    assert stream.getvalue().endswith("\r\x1b[K  ... waiting for the model 1.5s\r\x1b[K  ... waiting for the model 2.5s")
    assert line.stop() == 2.5
    line.print("  [  3] llm.response  hi")
    assert stream.getvalue().endswith("2.5s\r\x1b[K  [  3] llm.response  hi\n")
    line.tick()
    assert stream.getvalue().endswith("hi\n") and line.stop() is None


def test_off_a_terminal_nothing_is_redrawn() -> None:
    stream, clock = io.StringIO(), Clock()
    line = LiveLine(stream, clock)
    line.start("running calculator")
    clock.now += 3
    line.tick()
    line.print("done")
    assert stream.getvalue() == "done\n" and line.stop() == 3
