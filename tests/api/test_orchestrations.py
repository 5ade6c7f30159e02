"""Orchestrations over HTTP: the patterns, creating one of each (stored as a workflow file, audited), running one
end to end through `POST /runs`, field-naming 422s, taken names, removal, and queued mode."""

from __future__ import annotations

import json

import pytest

from agentstage.runtime import AgentSpec
from agentstage.runtime.system.graph_runs import workflow_dir
from agentstage.runtime.llm.scripted import ScriptedProvider
from agentstage.runtime.workflow import WorkflowRegistry
from tests.api.helpers import GATE_PROMPT, finished_run, start_run, status, wait_for

ROUTE = "/api/v1/orchestrations"
DEFINITIONS = {
    "sequential": {"agents": ["alice", "bob"]},
    "parallel": {"agents": ["alice", "bob"], "aggregator": "default", "max_concurrency": 1},
    "router": {"classifier": "default", "routes": {"billing": "alice", "tech": "bob"}, "default": "bob"},
    "supervisor": {"lead": "default", "workers": ["alice", "bob"]},
    "debate": {"agents": ["alice", "bob"], "judge": "default", "rounds": 1},
    "consensus": {"agents": ["alice", "bob"], "judge": "default"},
}


@pytest.fixture(autouse=True)
def agents(api_system) -> None:
    """Two more agents beside `default`, answering offline."""
    for name in ("alice", "bob"):
        api_system.add_agent(AgentSpec.from_config(api_system.config, name=name, pool_size=1), ScriptedProvider())


def create(client, keys, body: dict, role: str = "operator"):
    return client.simulate_post(ROUTE, json=body, headers=keys.headers(role))


def audit(client, keys, action: str) -> list[dict]:
    return client.simulate_get("/api/v1/audit", params={"action": action}, headers=keys.headers("admin")).json["items"]


def test_patterns_are_listed_with_their_fields(client, keys) -> None:
    patterns = {p["name"]: p for p in client.simulate_get(f"{ROUTE}/patterns", headers=keys.headers("viewer")).json}
    assert list(patterns) == list(DEFINITIONS)
    debate = {f["name"]: f for f in patterns["debate"]["fields"]}
    assert debate["rounds"] == {"name": "rounds", "type": "integer", "required": False, "default": 2,
                                "description": "rounds of arguments (1-10)"}
    assert debate["judge"]["required"] and debate["agents"]["type"] == "agents"
    assert {f["name"] for f in patterns["router"]["fields"]} == {"classifier", "routes", "default"}
    assert all(p["description"] for p in patterns.values())


@pytest.mark.parametrize("pattern", list(DEFINITIONS))
def test_each_pattern_is_created_stored_and_registered(client, keys, api_system, pattern) -> None:
    body = {"name": f"my-{pattern}", "pattern": pattern, **DEFINITIONS[pattern]}
    created = create(client, keys, body)
    assert created.status_code == 201, created.text
    path = workflow_dir(api_system.config) / f"my-{pattern}.json"
    assert created.json == {"name": f"my-{pattern}", "pattern": pattern, "description": "", "valid": True,
                            "problems": [], "file": str(path), "definition": {**body, "description": ""}}
    assert json.loads(path.read_text()) == created.json["definition"]
    listed = client.simulate_get(ROUTE, headers=keys.headers("viewer")).json
    assert [o["name"] for o in listed] == [f"my-{pattern}"]
    shown = client.simulate_get(f"{ROUTE}/my-{pattern}", headers=keys.headers("viewer")).json
    assert shown["definition"] == created.json["definition"] and shown["mermaid"].startswith("flowchart")
    workflow = client.simulate_get(f"/api/v1/workflows/my-{pattern}", headers=keys.headers("viewer"))
    assert workflow.status_code == 200 and workflow.json["source_file"] == str(path)
    assert WorkflowRegistry().load_dir(path.parent) == [f"my-{pattern}"], "a restart loads it from its file"
    (entry,) = audit(client, keys, "orchestration.create")
    assert entry["target"] == f"my-{pattern}" and entry["detail"] == {"pattern": pattern, "file": str(path)}


def test_a_run_of_the_orchestration_completes_with_a_child_run_per_agent_turn(client, keys, api_system) -> None:
    body = {"name": "team", "pattern": "supervisor", "description": "plan, work, review", **DEFINITIONS["supervisor"]}
    assert create(client, keys, body).status_code == 201
    run_id = finished_run(client, keys, api_system, "ship the release", workflow="team")
    run = client.simulate_get(f"/api/v1/runs/{run_id}", headers=keys.headers("viewer")).json
    assert run["workflow"] == "team" and run["output"]
    children = client.simulate_get("/api/v1/runs", params={"parent_run_id": run_id},
                                   headers=keys.headers("viewer")).json["items"]
    assert sorted(child["agent"] for child in children) == ["alice", "bob", "default", "default"]
    assert all(child["status"] == "completed" for child in children)
    steps = [c["node"] for c in client.simulate_get(f"/api/v1/runs/{run_id}/checkpoints",
                                                    headers=keys.headers("viewer")).json]
    assert {"plan", "work", "review"} <= set(steps)


@pytest.mark.parametrize(("change", "field"), [
    ({"agents": ["alice", "carol"]}, "agents[1]"),
    ({"agents": ["alice", "alice"]}, "agents[1]"),
    ({"judge": "nobody"}, "judge"),
    ({"judge": None}, "judge"),
    ({"rounds": 0}, "rounds"),
    ({"rounds": "2"}, "rounds"),
    ({"aggregator": "default"}, "aggregator"),
    ({"agents": ["alice"]}, "agents"),
    ({"agents": ["round", "bob"]}, "agents[0]"),
    ({"pattern": "vote"}, "pattern"),
    ({"name": "../etc/x"}, "name"),
    ({"name": "patterns"}, "name"),
    ({"extra": 1}, "extra"),
])
def test_a_bad_definition_is_a_422_naming_the_field(client, keys, api_system, change, field) -> None:
    body = {"name": "argue", "pattern": "debate", **DEFINITIONS["debate"], **change}
    answer = create(client, keys, {k: v for k, v in body.items() if v is not None})
    assert answer.status_code == 422 and field in answer.json["errors"], answer.text
    assert field in answer.json["description"]
    assert not workflow_dir(api_system.config).exists() or not list(workflow_dir(api_system.config).iterdir())
    assert audit(client, keys, "orchestration.create") == []


def test_router_problems_name_the_route(client, keys) -> None:
    body = {"name": "desk", "pattern": "router", "classifier": "default", "default": "bob",
            "routes": {"billing": "ghost", " tech": "bob", "ops": 3}}
    errors = create(client, keys, body).json["errors"]
    assert set(errors) == {"routes. tech", "routes.ops"}
    body["routes"] = {"billing": "ghost"}
    assert create(client, keys, body).json["errors"] == {"routes.billing": ["unknown agent 'ghost'"]}


def test_a_taken_name_is_a_409(client, keys) -> None:
    body = {"name": "pair", "pattern": "sequential", **DEFINITIONS["sequential"]}
    assert create(client, keys, body).status_code == 201
    for name in ("pair", "Pair", "triage"):
        taken = create(client, keys, {**body, "name": name})
        assert taken.status_code == 409 and "name" in taken.json["errors"], (name, taken.text)
    assert len(audit(client, keys, "orchestration.create")) == 1


def test_a_viewer_can_read_but_not_create_or_remove(client, keys, api_system) -> None:
    body = {"name": "pair", "pattern": "sequential", **DEFINITIONS["sequential"]}
    assert create(client, keys, body, role="viewer").status_code == 403
    assert not (workflow_dir(api_system.config) / "pair.json").exists()
    assert create(client, keys, body).status_code == 201
    assert client.simulate_delete(f"{ROUTE}/pair", headers=keys.headers("viewer")).status_code == 403
    assert client.simulate_get(f"{ROUTE}/pair", headers=keys.headers("viewer")).status_code == 200


def test_removing_deletes_the_file_and_the_workflow_once_its_runs_ended(client, keys, api_system, gate) -> None:
    assert create(client, keys, {"name": "solo", "pattern": "sequential", "agents": ["default"]}).status_code == 201
    run_id = start_run(client, keys, GATE_PROMPT, workflow="solo")
    assert gate.entered.wait(20)
    busy = client.simulate_delete(f"{ROUTE}/solo", headers=keys.headers("operator"))
    assert busy.status_code == 409 and run_id in busy.json["description"]
    gate.set()
    wait_for(lambda: status(api_system, run_id) == "completed")
    assert client.simulate_delete(f"{ROUTE}/solo", headers=keys.headers("operator")).json == {"ok": True}
    assert not list(workflow_dir(api_system.config).iterdir()) and "solo" not in api_system.workflows
    refused = client.simulate_post("/api/v1/runs", json={"input": "hi", "workflow": "solo"},
                                   headers=keys.headers("operator"))
    assert refused.status_code == 422 and "workflow" in refused.json["errors"]
    assert client.simulate_delete(f"{ROUTE}/solo", headers=keys.headers("operator")).status_code == 404
    assert client.simulate_get(f"{ROUTE}/solo", headers=keys.headers("viewer")).status_code == 404
    (entry,) = audit(client, keys, "orchestration.delete")
    assert entry["target"] == "solo"


def test_a_hand_written_file_is_listed_with_its_problems(client, keys, api_system) -> None:
    directory = workflow_dir(api_system.config)
    directory.mkdir(parents=True)
    (directory / "broken.json").write_text(json.dumps({"pattern": "consensus", "agents": ["alice", "ghost"]}))
    (directory / "graph.json").write_text(json.dumps({"entry": "a", "nodes": [{"name": "a", "kind": "agent"}]}))
    (listed,) = client.simulate_get(ROUTE, headers=keys.headers("viewer")).json
    assert listed["name"] == "broken" and listed["valid"] is False
    assert listed["problems"] == ["judge: required for consensus orchestrations", "agents[1]: unknown agent 'ghost'"]
    shown = client.simulate_get(f"{ROUTE}/broken", headers=keys.headers("viewer")).json
    assert shown["mermaid"] is None and shown["definition"]["agents"] == ["alice", "ghost"]
    assert client.simulate_delete(f"{ROUTE}/broken", headers=keys.headers("operator")).status_code == 200
    assert sorted(p.name for p in directory.iterdir()) == ["graph.json"]


def test_with_a_coordinator_an_orchestration_runs_on_a_worker_started_before_it(api_system, ops, keys) -> None:
    from falcon import testing

    from agentstage.api import create_app
    from tests.runtime.distributed.harness import coordinator, worker

    app = create_app(api_system, ops=ops)
    client = testing.TestClient(app)
    with coordinator(ops.config), worker(ops.config.replace(tools="calculator")):
        created = create(client, keys, {"name": "twice", "pattern": "sequential", "agents": ["default", "default"]})
        assert created.status_code == 201, created.text
        run_id = start_run(client, keys, "what is 6 * 7", workflow="twice")
        outcome = ops.wait(run_id, 60)
    app.backend.close()
    assert outcome["status"] == "completed", outcome
    assert "42" in outcome["output"]
