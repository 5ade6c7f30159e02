"""Store-backed per-session tool state: writes through the StoreActor, reads committed rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pykka

from agentstage.actors.store import Write
from agentstage.actors.supervision import Slot
from agentstage.runtime.clock import utc_now
from agentstage.runtime.state.items import session_items
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.records import SessionItem

__all__ = ["StoreSessionItems"]


class StoreSessionItems:
    """`SessionItems` of an embedded System; `put` returns once the change is committed.

    `store` returns the current store slot, so one instance outlives System restarts.
    """

    def __init__(self, store: Callable[[], Slot | None], reader: Callable[[], SQLiteReader], timeout: float = 30.0) -> None:
        self.store = store
        self.reader = reader
        self.timeout = timeout

    def items(self, session_id: str, namespace: str) -> dict[str, tuple[Any, str | None]]:
        return session_items(self.reader(), session_id, namespace, utc_now())

    def put(self, session_id: str, namespace: str, values: Mapping[str, tuple[Any, str | None] | None]) -> None:
        now = utc_now()
        records = tuple(SessionItem(session_id, namespace, key, None if entry is None else entry[0], now,
                                    None if entry is None else entry[1]) for key, entry in values.items())
        store = self.store()
        if store is None:
            raise RuntimeError("the store is not running")
        reply = pykka.ThreadingFuture()
        store.tell(Write(records, reply))
        reply.get(timeout=self.timeout)
