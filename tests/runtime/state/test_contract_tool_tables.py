"""Tool-owned tables (session items, catalog entries) through `runtime/state/items.py`, on every backend."""

from __future__ import annotations

from agentstage.runtime.state.items import catalog_entries, session_items
from agentstage.runtime.state.records import CatalogEntry, SessionItem
from tests.runtime.state.conftest import ts
from tests.runtime.state.test_contract import Store, store  # noqa: F401  (the contract's fixture)


def test_session_items_and_catalog_entries_round_trip(store: Store) -> None:
    store.writer.write([SessionItem("s1", "memory", "b", {"x": 1}, ts(1)),
                        SessionItem("s1", "memory", "a", "old", ts(1), expires_at=ts(5)),
                        SessionItem("s1", "memory", "c", "gone", ts(1)),
                        CatalogEntry("custom_tool", "weather", {"url": "http://x"}, ts(1))])
    store.writer.write([SessionItem("s1", "memory", "c", None, ts(2)),
                        CatalogEntry("custom_tool", "weather", {"url": "http://y"}, ts(3))])
    assert session_items(store.reader, "s1", "memory", ts(2)) == {"a": ("old", ts(5)), "b": ({"x": 1}, None)}
    assert session_items(store.reader, "s1", "memory", ts(6)) == {"b": ({"x": 1}, None)}
    assert catalog_entries(store.reader, "custom_tool") == {
        "weather": {"url": "http://y", "created_at": ts(1), "updated_at": ts(3)}}
    store.writer.write([CatalogEntry("custom_tool", "weather", None, ts(4))])
    assert catalog_entries(store.reader, "custom_tool") == {}
