"""The stored tool catalog, from the coordinator to the workers through one Redis key.

Custom HTTP tools, tool instances and workflow bindings are written to the store by the API or the
CLI; workers never open that store. The coordinator copies the catalog to `layout.catalog` at start
and when it changes (`publish_catalog`, checked by its clock every second), as JSON `{"version",
"entries"}`; a worker reads it once Redis answers, before its agent pools start, and again at each
heartbeat, applying it when the version moved (`fetch_catalog`). Credentials travel as references only: each worker
resolves them from its own environment or secret files when a tool is called.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from agentstage.runtime.state.items import catalog_entries
from agentstage.runtime.state.base import StoreReader
from agentstage.runtime.streams import StreamLayout
from agentstage.runtime.transport import StreamTransport

__all__ = ["CATALOG_KINDS", "CatalogSnapshot", "fetch_catalog", "publish_catalog"]

CATALOG_KINDS = ("custom_tool", "tool_instance", "workflow_binding")


class CatalogSnapshot:
    """The catalog as one coordinator read it: a read-only stand-in for a store reader (`catalog_entries`)."""

    def __init__(self, entries: dict[str, dict[str, dict[str, Any]]], version: str) -> None:
        self.entries = entries
        self.version = version

    @classmethod
    def empty(cls) -> CatalogSnapshot:
        return cls({}, "")

    def catalog_entries(self, kind: str) -> dict[str, dict[str, Any]]:
        return dict(self.entries.get(kind, {}))


def publish_catalog(transport: StreamTransport, layout: StreamLayout, reader: StoreReader,
                    last_version: str = "") -> str:
    """Copy the stored catalog to Redis when it differs from `last_version`; returns the version now there."""
    entries = {kind: catalog_entries(reader, kind) for kind in CATALOG_KINDS}
    text = json.dumps(entries, sort_keys=True, separators=(",", ":"), default=str)
    version = hashlib.sha256(text.encode()).hexdigest()[:16]
    if version != last_version:
        transport.apply([("set", layout.catalog, json.dumps({"version": version, "entries": entries},
                                                            separators=(",", ":"), default=str), None)])
    return version


def fetch_catalog(transport: StreamTransport, layout: StreamLayout) -> CatalogSnapshot | None:
    """The catalog the coordinator published, or None when none is there (no coordinator has run yet)."""
    raw = transport.get(layout.catalog)
    if raw is None:
        return None
    found = json.loads(raw)
    return CatalogSnapshot(found["entries"], found["version"])
