"""Import direction: building blocks import no actor, facade, CLI, API, process wiring or app; actors
import none of the layers above them. A violation names the file, line and module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BLOCK_PACKAGES = ("state", "llm", "tools", "graph", "workflow", "retrieval", "guardrails", "integrations", "transport",
                  "telemetry")
"""The runtime's building blocks (with its single-file modules other than the facade's)."""

FACADE_MODULES = ("__init__",)
"""Single-file modules of `runtime/` that are not building blocks (the package's own)."""

ABOVE_ACTORS = ("agentstage.api", "agentstage.runtime.system", "agentstage.runtime.cli",
                "agentstage.runtime.control", "agentstage.runtime.distributed", "agentstage.runtime.secops",
                "agentstage.runtime.evals", "agentstage.runtime.schedules")
ABOVE_BLOCKS = ("agentstage.actors", *ABOVE_ACTORS)


def _runtime_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every agentstage import in `path`, at any depth, except type-checking-only ones."""
    tree = ast.parse(path.read_text(), str(path))
    skipped = {id(node) for guard in ast.walk(tree)
               if isinstance(guard, ast.If) and isinstance(guard.test, ast.Name) and guard.test.id == "TYPE_CHECKING"
               for statement in guard.body for node in ast.walk(statement)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.startswith("agentstage.")]


def _violations(paths: list[Path], forbidden: tuple[str, ...], root: Path = ROOT) -> list[str]:
    return [f"{path.relative_to(root)}:{line} imports {name}" for path in sorted(paths)
            for line, name in _runtime_imports(path) if name.startswith(forbidden)]


def building_blocks() -> list[Path]:
    packages = [path for package in BLOCK_PACKAGES for path in (ROOT / "runtime" / package).rglob("*.py")]
    modules = [path for path in (ROOT / "runtime").glob("*.py") if path.stem not in FACADE_MODULES]
    return packages + modules


def test_building_blocks_import_no_actor_facade_cli_api_or_app() -> None:
    assert _violations(building_blocks(), ABOVE_BLOCKS) == []


def test_actors_import_no_facade_cli_api_or_app() -> None:
    assert _violations(list((ROOT / "actors").rglob("*.py")), ABOVE_ACTORS) == []


def test_the_check_finds_a_forbidden_import_inside_a_function_but_not_a_type_only_one(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("def late():\n    from agentstage.actors.agent import AgentActor\n\n\n"
                      "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from agentstage.api import app\n")
    assert _violations([module], ABOVE_BLOCKS, tmp_path) == ["probe.py:2 imports agentstage.actors.agent"]
