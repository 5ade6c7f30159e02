"""The workflow registry: named graphs, registered in code or loaded from JSON files."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from agentstage.runtime._log import logger
from agentstage.runtime.errors import NotFound
from agentstage.runtime.graph.builder import Graph, GraphError
from agentstage.runtime.graph.compiled import CompiledGraph

__all__ = ["GraphSource", "WorkflowRegistry"]

GraphSource = Graph | CompiledGraph | Callable[[], Graph | CompiledGraph]


class WorkflowRegistry:
    """Named workflows; thread-safe. A builder callable is compiled on first use and cached.

    Runs record the registered name, and resuming a run looks the name up here, so a name
    should keep meaning the same graph while its runs can still be resumed.
    """

    def __init__(self) -> None:
        self._sources: dict[str, GraphSource] = {}
        self._compiled: dict[str, CompiledGraph] = {}
        self._files: dict[str, str] = {}
        self._stamps: dict[str, tuple[int, int]] = {}
        self._dirs: list[str] = []
        self.invalid: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def register(self, name: str, graph_or_builder: GraphSource, *, replace: bool = False) -> None:
        """Register a Graph, a CompiledGraph or a zero-argument builder returning one.

        Raises GraphError for an empty or taken name (unless `replace`) and for a Graph that does
        not compile; a builder's graph is compiled (and checked) when first used.
        """
        if not isinstance(name, str) or not name.strip():
            raise GraphError(str(name), ["a workflow needs a non-empty name"])
        if not isinstance(graph_or_builder, (Graph, CompiledGraph)) and not callable(graph_or_builder):
            raise GraphError(name, [f"expected a Graph, CompiledGraph or builder, got {type(graph_or_builder).__name__}"])
        compiled = graph_or_builder.compile() if isinstance(graph_or_builder, Graph) else None
        with self._lock:
            if name in self._sources and not replace:
                raise GraphError(name, [f"workflow {name!r} is already registered"])
            self._sources[name] = graph_or_builder
            self._compiled.pop(name, None)
            self._files.pop(name, None)
            if compiled is not None or isinstance(graph_or_builder, CompiledGraph):
                self._compiled[name] = compiled or graph_or_builder  # type: ignore[assignment]

    def get(self, name: str) -> CompiledGraph:
        """The compiled workflow; raises NotFound for an unknown name, GraphError for a broken builder.

        A workflow loaded from a file follows its file: one another process removed is forgotten here, one it
        rewrote is loaded again, so every process serving the directory runs what the directory holds.
        """
        self._follow_file(name)
        with self._lock:
            compiled = self._compiled.get(name)
            source = self._sources.get(name)
        if compiled is not None:
            return compiled
        if source is None and name not in self.invalid and self.refresh():
            return self.get(name)
        if source is None:
            if name in self.invalid:
                from agentstage.runtime.workflow.loader import WorkflowFileError

                raise WorkflowFileError(self._files.get(name, name), self.invalid[name])
            raise NotFound("workflow", name)
        built = source()  # type: ignore[operator]
        if isinstance(built, Graph):
            built = built.compile()
        if not isinstance(built, CompiledGraph):
            raise GraphError(name, [f"builder returned {type(built).__name__}, not a Graph"])
        with self._lock:
            self._compiled.setdefault(name, built)
            return self._compiled[name]

    def names(self) -> list[str]:
        for name in list(self._files):
            self._follow_file(name)
        with self._lock:
            return sorted(self._sources)

    def source_file(self, name: str) -> str | None:
        """The JSON file a workflow was loaded from (None when registered in code)."""
        return self._files.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._sources

    def load_file(self, path: str | Path, *, replace: bool = False) -> CompiledGraph:
        """Load, validate and register one JSON workflow file (reloading a file replaces its workflow)."""
        from agentstage.runtime.workflow.loader import load_workflow_file

        compiled = load_workflow_file(path)
        replace = replace or self._files.get(compiled.name) == str(path)
        self.register(compiled.name, compiled, replace=replace)
        self.invalid.pop(compiled.name, None)
        self._files[compiled.name] = str(path)
        stamp = _stamp(Path(path))
        if stamp is not None:
            self._stamps[compiled.name] = stamp
        return compiled

    def _follow_file(self, name: str) -> None:
        """Forget or reload a file-loaded workflow whose file was removed or changed since it was loaded."""
        file = self._files.get(name)
        if file is None or name in self.invalid:
            return
        stamp = _stamp(Path(file))
        if stamp is None:
            self.forget_file(file)
        elif stamp != self._stamps.get(name):
            # NOTE: a broken rewrite is reported once and the last version that loaded keeps serving
            self._stamps[name] = stamp
            try:
                reloaded = self.load_file(file, replace=True)
            except GraphError as exc:
                logger.warning("workflow file {} changed and no longer loads: {}", file, exc)
                return
            if reloaded.name != name:
                with self._lock:
                    self._unregister(name)

    def forget_file(self, path: str | Path) -> list[str]:
        """Unregister what was loaded from `path` (its workflow, or its problems when it failed), once the file is
        gone; returns the names forgotten."""
        with self._lock:
            names = [name for name, file in self._files.items() if file == str(path)]
            for name in names:
                self._unregister(name)
        return names

    def _unregister(self, name: str) -> None:
        """Drop everything held under `name` (the caller holds the lock)."""
        for held in (self._files, self._sources, self._compiled, self.invalid, self._stamps):
            held.pop(name, None)

    def load_dir(self, directory: str | Path) -> list[str]:
        """Register every `*.json` in `directory`; broken files are logged and kept in `invalid`.

        The directory is remembered: `refresh` (and `get` of an unknown name) loads files that appear in it later,
        so a workflow another process registered with a file reaches this one.
        """
        if str(directory) not in self._dirs:
            self._dirs.append(str(directory))
        return self._load_files(Path(directory), skip=())

    def refresh(self) -> list[str]:
        """Load the `*.json` files that appeared in the directories `load_dir` read; returns their workflows."""
        loaded = []
        for directory in list(self._dirs):
            loaded += self._load_files(Path(directory), skip=frozenset(self._files.values()))
        return loaded

    def _load_files(self, root: Path, skip: frozenset[str] | tuple[()]) -> list[str]:
        loaded: list[str] = []
        if not root.is_dir():
            return loaded
        for path in sorted(root.glob("*.json")):
            if str(path) in skip:
                continue
            try:
                loaded.append(self.load_file(path).name)
            except GraphError as exc:
                logger.warning("workflow file {} skipped: {}", path, exc)
                self.invalid[path.stem] = exc.problems
                self._files.setdefault(path.stem, str(path))
        return loaded


def _stamp(path: Path) -> tuple[int, int] | None:
    """A file's (mtime_ns, size), or None when it is gone."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size
