"""RunLog: the events of one run being executed — sequence numbers, usage, buffered writes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pykka

from agentstage.runtime.wire import RunResult
from agentstage.actors.store import Confirmed, Write, write_until_durable
from agentstage.actors.supervision import Slot
from agentstage.runtime.clock import utc_now
from agentstage.runtime.llm.types import Usage
from agentstage.runtime.state.records import Event

__all__ = ["RunLog"]

_TERMINAL = frozenset({"run.completed", "run.failed", "run.cancelled"})


class RunLog:
    """Numbers a run's events from `first_seq`, buffers them, and writes them through the store.

    `flush` sends what is buffered (a step boundary) and notes whether the store took it; `finish`
    sends the rest, and the caller's reply gets the result only once every write of the run is
    durable. A run with a failed write is reported failed with the store's error instead, and its
    events plus a `run.failed` are written again until the store takes them (once space returns).
    Slotted: one per run in flight.
    """

    __slots__ = ("store", "run_id", "session_id", "provider", "node", "fence", "next_seq", "iteration", "usage",
                 "events", "write_error", "_buffer")

    def __init__(self, store: Slot, run_id: str, session_id: str, provider: str, first_seq: int = 1,
                 node: str | None = None, fence: tuple[str, int] | None = None) -> None:
        self.store = store
        self.run_id = run_id
        self.session_id = session_id
        self.provider = provider
        self.node = node
        self.fence = fence
        self.next_seq = first_seq
        self.iteration = 0
        self.usage = Usage()
        self.events: list[Event] = []
        self.write_error: BaseException | None = None
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
        return self.usage.run_view()

    def flush(self, reply: pykka.Future[Any] | None = None, result: Any = None) -> None:
        if reply is not None:
            self.finish(reply, result)
        elif self._buffer:
            self.store.tell(Write(tuple(self._buffer), Confirmed(self._confirmed), fence=self.fence))
            self._buffer = []

    def finish(self, reply: pykka.Future[Any], result: Any) -> None:
        settle = Confirmed(lambda error: self._settle(reply, result, error))
        self.store.tell(Write(tuple(self._buffer), settle, result, self.fence))
        self._buffer = []

    def _confirmed(self, error: BaseException | None) -> None:
        # NOTE: on the store's thread; the store settles a run's writes in the order they were sent
        if error is not None and self.write_error is None:
            self.write_error = error

    def _settle(self, reply: pykka.Future[Any], result: Any, error: BaseException | None) -> None:
        self._confirmed(error)
        if self.write_error is None:
            reply.set(result)
            return
        if not isinstance(result, RunResult):
            reply.set_exception(exc_info=(type(self.write_error), self.write_error, None))
            return
        text = f"the run could not be recorded: {self.write_error}"
        failed = Event(self.run_id, self.next_seq, "run.failed", utc_now(), self.session_id,
                       {"error_type": type(self.write_error).__name__, "usage": self.usage_dict()}, self.node,
                       None, self.provider, None, text)
        kept = tuple(e for e in self.events if e.type not in _TERMINAL)
        write_until_durable(self.store, (*kept, failed))
        reply.set(dataclasses.replace(result, status="failed", output="", error=text, events=(*kept, failed),
                                      error_type=type(self.write_error).__name__, truncated=False))
