"""A worker's tool catalog: the coordinator's published copy of the stored catalog plus the worker's own
AGENTSTAGE_TOOL_DIR files, registered in the worker's tool registry as an embedded System would.

`apply` registers a newer published copy and tells which tool names changed (added, redefined or
removed), so the worker restarts the agent pools that offer them and re-applies workflow bindings.
Nothing is written anywhere: the store belongs to the coordinator.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from agentstage.runtime.config import Config
from agentstage.runtime.distributed.catalog_feed import CatalogSnapshot
from agentstage.runtime.errors import StoreError
from agentstage.runtime.integrations.catalog import CUSTOM, INSTANCE, ToolCatalog
from agentstage.runtime.integrations.credentials import CredentialResolver
from agentstage.runtime.state.records import Record
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.registry import ToolRegistry

__all__ = ["WorkerCatalog"]


class WorkerCatalog:
    """The catalog of one worker over `registry` (built-in tools already in it)."""

    def __init__(self, config: Config, registry: ToolRegistry, context: ToolContext) -> None:
        self.config = config
        self.registry = registry
        self.snapshot = CatalogSnapshot.empty()
        self.catalog = ToolCatalog(registry, context, CredentialResolver.from_config(config), _read_only,
                                   lambda: self.snapshot)
        self._bodies: dict[str, str] = self._load()

    @property
    def version(self) -> str:
        return self.snapshot.version

    def apply(self, snapshot: CatalogSnapshot) -> set[str]:
        """Register `snapshot` when it is newer; returns the tool names whose definition changed."""
        if snapshot.version == self.snapshot.version:
            return set()
        self.snapshot = snapshot
        before, after = self._bodies, self._load()
        for gone in set(before) - set(after):
            self.registry.unregister(gone)
        self._bodies = after
        return {name for name in set(before) | set(after) if before.get(name) != after.get(name)}

    def _load(self) -> dict[str, str]:
        """Register every stored and file definition; returns each registered tool's definition as text."""
        loaded = self.catalog.load(self.config.tool_spec_dir, persist=False)
        stored = {**self.snapshot.catalog_entries(CUSTOM), **self.snapshot.catalog_entries(INSTANCE)}
        return {name: json.dumps(stored.get(name) or self.registry.get(name).catalog_entry(), sort_keys=True,
                                 default=str) for name in loaded}


def _read_only(records: Iterable[Record]) -> None:
    raise StoreError("worker", "the tool catalog is read-only here: change it through the API or the CLI")
