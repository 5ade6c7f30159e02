"""Workflow registry: register graphs or builders, load JSON directories, built-ins."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from agentstage.runtime.errors import NotFound
from agentstage.runtime.graph import AgentNode, Graph, GraphError
from agentstage.runtime.workflow import WorkflowFileError, WorkflowRegistry, default_registry


def one_node(name: str = "g") -> Graph:
    return Graph(name).add(AgentNode("a")).entry("a")


def test_register_graph_builder_and_compiled() -> None:
    registry = WorkflowRegistry()
    registry.register("direct", one_node())
    calls = []
    registry.register("lazy", lambda: calls.append(1) or one_node("lazy"))
    registry.register("compiled", one_node("c").compile())
    assert calls == []
    assert registry.get("lazy") is registry.get("lazy") and calls == [1]
    assert registry.names() == ["compiled", "direct", "lazy"]
    with pytest.raises(NotFound):
        registry.get("missing")


def test_duplicates_and_broken_graphs_are_refused() -> None:
    registry = WorkflowRegistry()
    registry.register("g", one_node())
    with pytest.raises(GraphError, match="already registered"):
        registry.register("g", one_node())
    registry.register("g", one_node("other"), replace=True)
    assert registry.get("g").name == "other"
    with pytest.raises(GraphError, match="no entry node"):
        registry.register("bad", Graph("bad").add(AgentNode("a")))
    with pytest.raises(GraphError, match="non-empty name"):
        registry.register(" ", one_node())


def test_load_dir_registers_valid_files_and_keeps_problems_of_broken_ones(tmp_path: Path) -> None:
    (tmp_path / "hello.json").write_text(json.dumps(
        {"entry": "a", "nodes": [{"name": "a", "kind": "agent"}]}))
    (tmp_path / "bad.json").write_text(json.dumps({"name": "bad", "entry": "a", "nodes": []}))
    registry = default_registry()
    assert registry.load_dir(tmp_path) == ["hello"]
    assert registry.source_file("hello") == str(tmp_path / "hello.json")
    assert registry.invalid == {"bad": ["nodes: Shorter than minimum length 1."]}
    with pytest.raises(WorkflowFileError):
        registry.get("bad")
    assert registry.load_dir(tmp_path) == ["hello"]


def test_builtins_compile() -> None:
    registry = default_registry()
    assert {"basic", "triage"} <= set(registry.names())
    triage = registry.get("triage")
    assert {n.kind for n in triage.nodes.values()} == {"tool", "router", "agent"}


def test_a_file_that_appears_later_is_loaded_on_first_use(tmp_path) -> None:
    import json

    registry = WorkflowRegistry()
    assert registry.load_dir(tmp_path) == []
    (tmp_path / "late.json").write_text(json.dumps(
        {"name": "late", "start": "a", "nodes": [{"id": "a", "kind": "output", "value": "done"}]}))
    assert "late" not in registry
    assert registry.get("late").entry == "a" and registry.source_file("late") == str(tmp_path / "late.json")
    (tmp_path / "later.json").write_text(json.dumps({"name": "later", "entry": "a",
                                                     "nodes": [{"name": "a", "kind": "agent"}]}))
    assert registry.refresh() == ["later"] and registry.refresh() == []


def test_forgetting_a_removed_file_unregisters_what_it_held(tmp_path: Path) -> None:
    (tmp_path / "hello.json").write_text(json.dumps({"entry": "a", "nodes": [{"name": "a", "kind": "agent"}]}))
    (tmp_path / "bad.json").write_text(json.dumps({"name": "bad", "entry": "a", "nodes": []}))
    registry = WorkflowRegistry()
    registry.load_dir(tmp_path)
    registry.register("code", one_node())
    for name in ("hello", "bad"):
        (tmp_path / f"{name}.json").unlink()
        assert registry.forget_file(tmp_path / f"{name}.json") == [name]
    assert registry.names() == ["code"] and registry.invalid == {} and registry.forget_file(tmp_path / "x.json") == []
    with pytest.raises(NotFound):
        registry.get("hello")


def shared_workflow(directory: Path) -> tuple[Path, WorkflowRegistry]:
    """A one-node workflow file `shared.json` in `directory`, and a registry that loaded it."""
    file = directory / "shared.json"
    file.write_text(json.dumps({"name": "shared", "entry": "a", "nodes": [{"name": "a", "kind": "agent"}]}))
    registry = WorkflowRegistry()
    registry.load_dir(directory)
    return file, registry


def rewrite(file: Path, text: str) -> None:
    """Replace a file's text as another process would, with a later modification time."""
    file.write_text(text)
    os.utime(file, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))


def test_a_file_removed_or_rewritten_by_another_process_is_followed(tmp_path: Path) -> None:
    file, registry = shared_workflow(tmp_path)
    assert set(registry.get("shared").nodes) == {"a"}
    rewrite(file, json.dumps({"name": "shared", "entry": "b", "nodes": [{"name": "b", "kind": "agent"}]}))
    assert set(registry.get("shared").nodes) == {"b"}
    file.unlink()
    assert "shared" not in registry.names()
    with pytest.raises(NotFound):
        registry.get("shared")


def test_a_broken_rewrite_is_reported_once_and_the_last_good_version_keeps_serving(tmp_path: Path) -> None:
    from loguru import logger

    file, registry = shared_workflow(tmp_path)
    rewrite(file, "{not json")
    warnings: list[str] = []
    logger.enable("agentstage")
    sink = logger.add(lambda m: warnings.append(str(m)), level="WARNING")
    try:
        assert set(registry.get("shared").nodes) == {"a"} and set(registry.get("shared").nodes) == {"a"}
    finally:
        logger.remove(sink)
        logger.disable("agentstage")
    assert sum("no longer loads" in w for w in warnings) == 1
