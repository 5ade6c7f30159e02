"""Per-session tool state on a worker: reads and writes go to the coordinator, which keeps them in its store.

A worker never opens the coordinator's SQLite file; `memory_store` and `todo_manager` on a worker
see what the same tools see embedded (and what other workers wrote), and a write returns once the
coordinator committed it, so the next read of any process finds it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from agentstage.runtime.clock import new_id
from agentstage.runtime.errors import DecodeError, StoreError
from agentstage.runtime.streams import CONTROL_MAXLEN, StreamLayout
from agentstage.runtime.transport import UNAVAILABLE, StreamTransport
from agentstage.runtime.wire import SessionAnswer, SessionRequest, from_wire, to_wire

__all__ = ["CoordinatorSessionItems"]

_FIRST_POLL = 0.002
_MAX_POLL = 0.05


class CoordinatorSessionItems:
    """`SessionItems` answered by the coordinator over the control stream (StoreError when none answers in `wait` s)."""

    def __init__(self, transport: StreamTransport, layout: StreamLayout, wait: float = 10.0) -> None:
        self.transport = transport
        self.layout = layout
        self.wait = wait

    def items(self, session_id: str, namespace: str) -> dict[str, tuple[Any, str | None]]:
        answer = self._ask(SessionRequest(session_id, namespace, new_id()))
        return {key: (entry[0], entry[1]) for key, entry in answer.items.items()}

    def put(self, session_id: str, namespace: str, values: Mapping[str, tuple[Any, str | None] | None]) -> None:
        changes = {key: None if entry is None else [entry[0], entry[1]] for key, entry in values.items()}
        self._ask(SessionRequest(session_id, namespace, new_id(), changes))

    def _ask(self, request: SessionRequest) -> SessionAnswer:
        key = self.layout.reply_key(request.reply_to)
        deadline, poll = time.monotonic() + self.wait, _FIRST_POLL
        try:
            self.transport.append(self.layout.control, to_wire(request), maxlen=CONTROL_MAXLEN)
            while (raw := self.transport.get(key)) is None:
                if time.monotonic() >= deadline:
                    raise StoreError("the coordinator's store", f"no coordinator answered the session store within {self.wait:g}s")
                time.sleep(poll)
                poll = min(poll * 2, _MAX_POLL)
            self.transport.delete(key)
            answer = from_wire(raw)
        except UNAVAILABLE as exc:
            raise StoreError("the coordinator's store", f"cannot reach Redis for the session store: {exc}") from None
        except DecodeError as exc:
            raise StoreError("the coordinator's store", f"unreadable session store answer: {exc}") from None
        if not isinstance(answer, SessionAnswer):
            raise StoreError("the coordinator's store", f"unexpected session store answer {type(answer).__name__}")
        if answer.error is not None:
            raise StoreError("the coordinator's store", answer.error)
        return answer
