"""RunLog: the events of one run being executed — sequence numbers, usage, buffered writes."""

from __future__ import annotations

from typing import Any

import pykka

from agentstage.actors.store import Write
from agentstage.actors.supervision import Slot
from agentstage.runtime.clock import utc_now
from agentstage.runtime.llm.types import Usage
from agentstage.runtime.state.records import Event

__all__ = ["RunLog"]


class RunLog:
    """Numbers a run's events from `first_seq`, buffers them, and writes them through the store.

    `flush` sends what is buffered (a step boundary); `finish` sends the rest together with the
    caller's reply, which the store settles after the commit.
    """

    def __init__(self, store: Slot, run_id: str, session_id: str, provider: str, first_seq: int = 1,
                 node: str | None = None) -> None:
        self.store = store
        self.run_id = run_id
        self.session_id = session_id
        self.provider = provider
        self.node = node
        self.next_seq = first_seq
        self.iteration = 0
        self.usage = Usage()
        self.events: list[Event] = []
        self._buffer: list[Event] = []

    def emit(self, type: str, *, data: dict[str, Any] | None = None, tool: str | None = None,
             duration_ms: float | None = None, error: str | None = None, node: str | None = None) -> Event:
        event = Event(self.run_id, self.next_seq, type, utc_now(), self.session_id, data or {}, node or self.node,
                      tool, self.provider, duration_ms, error)
        self.next_seq += 1
        self.events.append(event)
        self._buffer.append(event)
        return event

    def add_usage(self, usage: Usage) -> None:
        self.usage = self.usage + usage

    def usage_dict(self) -> dict[str, int]:
        return {"input_tokens": self.usage.input_tokens, "output_tokens": self.usage.output_tokens,
                "total_tokens": self.usage.total_tokens}

    def flush(self, reply: pykka.Future[Any] | None = None, result: Any = None) -> None:
        if self._buffer or reply is not None:
            self.store.tell(Write(tuple(self._buffer), reply, result))
            self._buffer = []

    def finish(self, reply: pykka.Future[Any], result: Any) -> None:
        self.flush(reply, result)
