"""Stored orchestrations: files of the workflow directory, added and registered together, listed with their
problems, and removed (file and registration) only once their runs ended."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentstage.runtime import System
from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.errors import NotFound, Refused
from agentstage.runtime.state import Event
from agentstage.runtime.workflow import WorkflowRegistry, default_registry
from agentstage.runtime.workflow.orchestration_store import OrchestrationStore
from agentstage.runtime.workflow.orchestrations import parse_orchestration

PAIR = {"name": "Pair", "pattern": "sequential", "agents": ["alice", "bob"]}


@pytest.fixture
def store(tmp_path: Path) -> OrchestrationStore:
    return OrchestrationStore(tmp_path / "workflows", default_registry(), {"alice", "bob"})


def test_add_writes_the_definition_and_registers_its_workflow(store: OrchestrationStore) -> None:
    stored = store.add(parse_orchestration(PAIR))
    path = store.directory / "pair.json"
    assert stored.file == str(path) and stored.valid and json.loads(path.read_text()) == {**PAIR, "description": ""}
    assert store.registry.get("Pair").entry == "1_alice" and store.registry.source_file("Pair") == str(path)
    assert store.get("Pair") == stored and [s.name for s in store.all()] == ["Pair"]
    with pytest.raises(NotFound):
        store.get("pair")


@pytest.mark.parametrize("name", ["Pair", "pair", "triage"])
def test_a_taken_name_is_refused_and_nothing_is_written(store: OrchestrationStore, name: str) -> None:
    store.add(parse_orchestration(PAIR))
    with pytest.raises(Refused) as refused:
        store.add(parse_orchestration({**PAIR, "name": name}))
    assert refused.value.field == "name"
    assert [p.name for p in store.directory.iterdir()] == ["pair.json"]


def test_a_file_another_process_wrote_is_seen_and_refuses_its_name(store: OrchestrationStore) -> None:
    store.directory.mkdir()
    (store.directory / "relay.json").write_text(json.dumps({"pattern": "sequential", "agents": ["bob"]}))
    assert [s.name for s in store.all()] == ["relay"]
    with pytest.raises(Refused):
        store.add(parse_orchestration({**PAIR, "name": "relay"}))


def test_only_orchestration_files_are_listed_each_with_its_problems(store: OrchestrationStore) -> None:
    store.directory.mkdir()
    (store.directory / "graph.json").write_text(json.dumps({"entry": "a", "nodes": [{"name": "a", "kind": "agent"}]}))
    (store.directory / "junk.json").write_text("{not json")
    (store.directory / "ghost.json").write_text(json.dumps({"pattern": "sequential", "agents": ["alice", "carol"]}))
    (listed,) = store.all()
    assert (listed.name, listed.valid, listed.problems) == ("ghost", False, ("agents[1]: unknown agent 'carol'",))
    assert listed.definition == {"pattern": "sequential", "agents": ["alice", "carol"]}
    assert OrchestrationStore(store.directory, WorkflowRegistry()).get("ghost").valid, "no agents given: any agent"


def test_remove_deletes_the_file_and_the_registration(store: OrchestrationStore) -> None:
    store.add(parse_orchestration(PAIR))
    assert store.remove("Pair").name == "Pair"
    assert "Pair" not in store.registry and not list(store.directory.iterdir())
    with pytest.raises(NotFound):
        store.remove("Pair")
    store.add(parse_orchestration({**PAIR, "agents": ["bob"]}))
    assert store.registry.get("Pair").entry == "1_bob", "the name can be given again"


def test_an_orchestration_removed_by_another_process_no_longer_runs_here(store: OrchestrationStore) -> None:
    store.add(parse_orchestration(PAIR))
    other = WorkflowRegistry()
    other.load_dir(store.directory)
    assert other.get("Pair").entry == "1_alice"
    store.remove("Pair")
    with pytest.raises(NotFound):
        other.get("Pair")
    assert "Pair" not in other.names()


def test_remove_waits_for_the_runs_of_the_orchestration_to_end(store: OrchestrationStore, system: System) -> None:
    store.add(parse_orchestration(PAIR))
    run_id, session = new_id(), new_id()
    system.write([Event(run_id, 1, "run.started", utc_now(), session, {"kind": "graph", "workflow": "Pair",
                                                                        "input": "x"})])
    with pytest.raises(Refused, match=run_id):
        store.remove("Pair", system.reader())
    system.write([Event(run_id, 2, "run.completed", utc_now(), session, {"output": "done"})])
    store.remove("Pair", system.reader())
    assert "Pair" not in store.registry
