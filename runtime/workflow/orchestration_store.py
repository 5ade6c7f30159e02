"""Stored orchestrations: the orchestration definitions among the workflow directory's files, added (checked,
written atomically, registered) and removed (file and registration) together.

The directory is the one every System built from the same settings loads workflows from (API processes,
workers, the CLI), so a stored orchestration runs there as a workflow of its name, and after a restart.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentstage.runtime.errors import NotFound, Refused
from agentstage.runtime.graph.builder import GraphError
from agentstage.runtime.workflow.files import write_workflow_file
from agentstage.runtime.workflow.orchestrations import (
    Orchestration,
    OrchestrationError,
    build_orchestration,
    is_orchestration_document,
    parse_orchestration,
)
from agentstage.runtime.workflow.registry import WorkflowRegistry

if TYPE_CHECKING:
    from agentstage.runtime.state.base import StoreReader

__all__ = ["OrchestrationStore", "StoredOrchestration", "UNFINISHED"]

UNFINISHED = ("queued", "running", "waiting")


@dataclass(frozen=True)
class StoredOrchestration:
    """One orchestration file: its definition (as checked, or as written when it is invalid) and its problems."""

    name: str
    pattern: str
    file: str
    definition: dict[str, Any]
    problems: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "pattern": self.pattern, "description": self.definition.get("description") or "",
                "valid": self.valid, "problems": list(self.problems), "file": self.file,
                "definition": self.definition}


class OrchestrationStore:
    """The orchestrations of `directory`, registered in `registry`; `agents`, when given, are the agents a
    definition may name (others are a problem)."""

    def __init__(self, directory: Path, registry: WorkflowRegistry, agents: Collection[str] | None = None) -> None:
        self.directory = directory
        self.registry = registry
        self.agents = agents

    def all(self) -> list[StoredOrchestration]:
        """Every orchestration file, by file name (unreadable files and other workflows are left out)."""
        found = []
        for path in sorted(self.directory.glob("*.json")) if self.directory.is_dir() else ():
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if is_orchestration_document(document):
                found.append(self._stored(path, document))
        return found

    def get(self, name: str) -> StoredOrchestration:
        """The orchestration named `name`; raises NotFound."""
        for stored in self.all():
            if stored.name == name:
                return stored
        raise NotFound("orchestration", name)

    def add(self, orchestration: Orchestration) -> StoredOrchestration:
        """Write `orchestration` to `<directory>/<name>.json` and register its workflow.

        Raises Refused (field `name`) when a workflow or a file has that name already, and OrchestrationError
        when its pattern's graph does not build.
        """
        name = orchestration.name
        self.registry.refresh()
        if name in self.registry or name in self.registry.invalid:
            raise Refused(name, f"a workflow named {name!r} exists; names are not replaced", field="name")
        build_orchestration(orchestration)
        path = write_workflow_file(self.directory, name, orchestration.to_dict())
        try:
            self.registry.load_file(path)
        except GraphError as exc:
            path.unlink(missing_ok=True)
            self.registry.forget_file(path)
            raise Refused(name, "; ".join(exc.problems), field="name") from None
        return self._stored(path, orchestration.to_dict())

    def remove(self, name: str, reader: StoreReader | None = None) -> StoredOrchestration:
        """Delete the orchestration's file and unregister its workflow; raises NotFound, and Refused while runs of
        it are queued, running or waiting (with `reader`, the store that has its runs)."""
        stored = self.get(name)
        if reader is not None and (busy := unfinished_runs(reader, name)):
            raise Refused(name, f"runs of {name!r} have not ended ({', '.join(busy)}); cancel them or let them end "
                                "first")
        Path(stored.file).unlink(missing_ok=True)
        self.registry.forget_file(stored.file)
        return stored

    def _stored(self, path: Path, document: dict[str, Any]) -> StoredOrchestration:
        name = document.get("name") if isinstance(document.get("name"), str) else path.stem
        pattern = document.get("pattern") if isinstance(document.get("pattern"), str) else ""
        try:
            orchestration = parse_orchestration({"name": path.stem, **document}, self.agents, str(path))
            build_orchestration(orchestration)
        except OrchestrationError as exc:
            return StoredOrchestration(name, pattern, str(path), document, tuple(exc.problems))
        return StoredOrchestration(name, pattern, str(path), orchestration.to_dict())


def unfinished_runs(reader: StoreReader, workflow: str, limit: int = 3) -> list[str]:
    """Ids of up to `limit` runs of `workflow` that are queued, running or waiting for input."""
    found: list[str] = []
    for status in UNFINISHED:
        found += [run.run_id for run in reader.list_runs(status=status, workflow=workflow, limit=limit).items]
    return found[:limit]
