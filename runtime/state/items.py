"""Read queries for tool-owned tables: per-session items and runtime catalog entries."""

from __future__ import annotations

import json
from typing import Any

from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.sqlite import store_errors

__all__ = ["catalog_entries", "session_items"]


def session_items(reader: SQLiteReader, session_id: str, namespace: str, now: str) -> dict[str, tuple[Any, str | None]]:
    """Unexpired items of one session's namespace: key -> (value, expires_at), ordered by key."""
    if not hasattr(reader, "connection"):  # the Redis store answers from its own layout
        return reader.session_items(session_id, namespace, now)
    with store_errors(reader.path):
        rows = list(reader.connection.execute(
            "SELECT key, value, expires_at FROM session_items WHERE session_id = ? AND namespace = ?"
            " AND (expires_at IS NULL OR expires_at > ?) ORDER BY key", (session_id, namespace, now)))
    return {key: (json.loads(value), expires) for key, value, expires in rows}


def catalog_entries(reader: SQLiteReader, kind: str) -> dict[str, dict[str, Any]]:
    """Every catalog entry of one kind: name -> body (with `created_at`/`updated_at`), ordered by name."""
    if not hasattr(reader, "connection"):  # the Redis store answers from its own layout
        return reader.catalog_entries(kind)
    with store_errors(reader.path):
        rows = list(reader.connection.execute(
            "SELECT name, body, created_at, updated_at FROM catalog_entries WHERE kind = ? ORDER BY name", (kind,)))
    return {name: {**json.loads(body), "created_at": created, "updated_at": updated}
            for name, body, created, updated in rows}
