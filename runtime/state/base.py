"""The store interface every state backend implements: a writer the StoreActor drives, readers for queries.

`SQLiteWriter`/`SQLiteReader` (the record), `RedisWriter`/`RedisReader` and
`HybridWriter`/`HybridReader` all satisfy these protocols; the contract tests hold them to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from agentstage.runtime.llm.types import ChatMessage
from agentstage.runtime.state.health import Health
from agentstage.runtime.state.reader import Page, RunRow
from agentstage.runtime.state.records import Event, Record

__all__ = ["Health", "StoreReader", "StoreWriter"]


@runtime_checkable
class StoreWriter(Protocol):
    """Applies records idempotently (by natural key); the StoreActor groups batches into one commit."""

    @property
    def in_transaction(self) -> bool: ...

    def begin(self) -> None: ...

    def apply_batch(self, records: Iterable[Record]) -> list[Event]:
        """Apply records, all or none; returns the events that were new."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def write(self, records: Iterable[Record]) -> list[Event]:
        """Apply records in their own transaction; returns the new events."""
        ...

    def health(self) -> Health: ...

    def close(self) -> None: ...


@runtime_checkable
class StoreReader(Protocol):
    """Queries over the stored state; listings use keyset cursors (`Page.next_cursor`)."""

    def get_run(self, run_id: str) -> RunRow: ...

    def list_runs(
        self,
        *,
        status: str | None = None,
        session_id: str | None = None,
        workflow: str | None = None,
        worker_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page: ...

    def events(self, run_id: str, *, after_seq: int = 0, limit: int = 1000) -> list[Event]: ...

    def session_history(self, session_id: str, *, max_turns: int = 50) -> tuple[ChatMessage, ...]: ...

    def list_sessions(self, *, limit: int = 50, cursor: str | None = None) -> Page: ...

    def checkpoints(self, run_id: str) -> list[dict[str, Any]]: ...

    def checkpoint(self, run_id: str, step: int | None = None) -> dict[str, Any]: ...

    def tool_effect(self, key: str) -> tuple[bool, Any]: ...

    def effect_intent(self, key: str) -> str | None: ...

    def attempts(self, run_id: str) -> list[dict[str, Any]]: ...

    def queue_events(self, task_id: str) -> list[dict[str, Any]]: ...

    def heartbeats(self) -> list[dict[str, Any]]: ...

    def health(self) -> Health: ...

    def close(self) -> None: ...
