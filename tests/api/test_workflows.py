"""Workflows and graph runs over HTTP: list, show with Mermaid, start, pause for input, resume; the reference
DevUI's registry: register in its format or ours, persist, run."""

from __future__ import annotations

import json

import pytest

from tests.api.helpers import finished_run, start_run, status, wait_for, waiting_graph_run


def test_lists_and_shows_workflows_with_their_diagram(client, keys) -> None:
    headers = keys.headers("viewer")
    listed = {w["name"]: w for w in client.simulate_get("/api/v1/workflows", headers=headers).json}
    assert listed["review"] == {"name": "review", "valid": True, "description": "compute, then ask a human",
                                "source_file": None, "problems": []}
    shown = client.simulate_get("/api/v1/workflows/review", headers=headers).json
    assert shown["entry"] == "calc" and [n["kind"] for n in shown["nodes"]] == ["tool", "human", "router"]
    assert shown["mermaid"].startswith("flowchart TD") and {"from": "calc", "to": "approve"} in shown["edges"]
    assert shown["transitions"] == [{"from": "start", "to": "calc", "label": ""},
                                    {"from": "calc", "to": "approve", "label": ""},
                                    {"from": "approve", "to": "decide", "label": ""},
                                    {"from": "decide", "to": "end", "label": "yes"},
                                    {"from": "decide", "to": "calc", "label": "default"}]
    assert client.simulate_get("/api/v1/workflows/nope", headers=headers).status_code == 404


def test_graph_run_pauses_and_resumes_with_input(client, keys, api_system) -> None:
    run_id = waiting_graph_run(client, keys, api_system)
    headers = keys.headers("operator")
    run = client.simulate_get(f"/api/v1/runs/{run_id}", headers=headers).json
    assert run["kind"] == "graph" and run["workflow"] == "review"
    assert client.simulate_get(f"/api/v1/runs/{run_id}/checkpoints", headers=headers).json[0]["step"] == 0
    missing = client.simulate_post(f"/api/v1/runs/{run_id}/resume", headers=headers)
    assert missing.status_code == 422 and "input" in missing.json["errors"]
    resumed = client.simulate_post(f"/api/v1/runs/{run_id}/resume", json={"input": "yes"}, headers=headers)
    assert resumed.status_code == 202 and resumed.json["status"] == "resumed"
    wait_for(lambda: status(api_system, run_id) == "completed")
    again = client.simulate_post(f"/api/v1/runs/{run_id}/resume", json={"input": "yes"}, headers=headers)
    assert again.status_code == 409
    audit = client.simulate_get("/api/v1/audit", params={"action": "run.resume"}, headers=keys.headers("admin")).json
    assert audit["items"][0]["target"] == run_id and "yes" not in str(audit)


def test_graph_run_errors(client, keys, api_system) -> None:
    headers = keys.headers("operator")
    unknown = client.simulate_post("/api/v1/runs", json={"input": "x", "workflow": "nope"}, headers=headers)
    assert unknown.status_code == 422 and "workflow" in unknown.json["errors"]
    agent_run = finished_run(client, keys, api_system)
    not_graph = client.simulate_post(f"/api/v1/runs/{agent_run}/resume", json={"input": "x"}, headers=headers)
    assert not_graph.status_code == 409
    assert client.simulate_post("/api/v1/runs/nope/resume", headers=headers).status_code == 404


def test_fork_starts_a_new_run_from_a_checkpoint(client, keys, api_system) -> None:
    run_id = waiting_graph_run(client, keys, api_system)
    headers = keys.headers("operator")
    bad = client.simulate_post(f"/api/v1/runs/{run_id}/fork", json={"step": 99}, headers=headers)
    assert bad.status_code == 422 and "step" in bad.json["errors"]
    assert client.simulate_post(f"/api/v1/runs/{run_id}/fork", json={}, headers=headers).status_code == 422
    forked = client.simulate_post(f"/api/v1/runs/{run_id}/fork", json={"step": 0, "state_patch": {"note": "x"}},
                                  headers=headers)
    assert forked.status_code == 202 and forked.json["status"] == "forked"
    fork_id = forked.json["run_id"]
    assert fork_id != run_id
    wait_for(lambda: status(api_system, fork_id) == "waiting")
    assert client.simulate_get(f"/api/v1/runs/{fork_id}/checkpoints", headers=headers).json
    audit = client.simulate_get("/api/v1/audit", params={"action": "run.fork"}, headers=keys.headers("admin")).json
    assert audit["items"][0]["target"] == run_id
    agent_run = finished_run(client, keys, api_system)
    assert client.simulate_post(f"/api/v1/runs/{agent_run}/fork", json={"step": 0}, headers=headers).status_code == 409


REGISTRY = "/api/v1/workflows/registry"
POSTMAN = {"name": "workflow-from-postman", "description": "Example workflow creation", "spec": {
    "start": "prepare",
    "nodes": [{"id": "prepare", "kind": "template", "template": "Handle: {{input}}", "outputKey": "prompt"},
              {"id": "agent", "kind": "agent", "inputFrom": "prompt", "outputKey": "answer"},
              {"id": "final", "kind": "output", "from": "data.answer"}],
    "edges": [{"from": "prepare", "to": "agent"}, {"from": "agent", "to": "final"}]}}


def test_the_postman_example_registers_and_runs_end_to_end(client, keys, api_system) -> None:
    registered = client.simulate_post(REGISTRY, json=POSTMAN, headers=keys.headers("operator"))
    assert registered.status_code == 201, registered.text
    assert registered.json == {"name": "workflow-from-postman", "description": "Example workflow creation",
                               "persisted": False, "format": "reference", "file": None}
    listed = client.simulate_get(REGISTRY, headers=keys.headers("viewer")).json
    assert {"name": "workflow-from-postman"} in listed["workflows"] and listed["count"] == len(listed["workflows"])
    run_id = finished_run(client, keys, api_system, "what is 6 * 7", workflow="workflow-from-postman")
    run = client.simulate_get(f"/api/v1/runs/{run_id}", headers=keys.headers("viewer")).json
    assert "42" in run["output"]
    shown = client.simulate_get("/api/v1/workflows/workflow-from-postman", headers=keys.headers("viewer")).json
    assert [n["kind"] for n in shown["nodes"]] == ["set", "set", "agent", "set"]
    audit = client.simulate_get("/api/v1/audit", params={"action": "workflow.register"},
                                headers=keys.headers("admin")).json["items"]
    assert audit[0]["target"] == "workflow-from-postman" and audit[0]["detail"]["persisted"] is False
    again = client.simulate_post(REGISTRY, json=POSTMAN, headers=keys.headers("operator"))
    assert again.status_code == 409 and "name" in again.json["errors"]
    assert client.simulate_post(REGISTRY, json=POSTMAN, headers=keys.headers("viewer")).status_code == 403


def test_a_persisted_workflow_is_written_under_its_sanitised_name_and_loads_after_a_restart(
        client, keys, api_system) -> None:
    from agentstage.runtime.system.graph_runs import workflow_dir
    from agentstage.runtime.workflow import WorkflowRegistry

    body = {**POSTMAN, "name": "Postman.Flow", "persist": True}
    registered = client.simulate_post(REGISTRY, json=body, headers=keys.headers("operator")).json
    directory = workflow_dir(api_system.config)
    assert registered["persisted"] is True and registered["file"] == str(directory / "postman.flow.json")
    written = json.loads((directory / "postman.flow.json").read_text())
    assert written["name"] == "Postman.Flow" and written["start"] == "prepare" and "persist" not in written
    assert [p.name for p in directory.iterdir()] == ["postman.flow.json"]
    restarted = WorkflowRegistry()
    assert restarted.load_dir(directory) == ["Postman.Flow"]
    other_case = client.simulate_post(REGISTRY, json={**body, "name": "postman.flow"}, headers=keys.headers("operator"))
    assert other_case.status_code == 409 and "exists" in other_case.json["errors"]["name"][0]
    assert "postman.flow" not in api_system.workflows


def test_agentstage_own_format_registers_too(client, keys, api_system) -> None:
    spec = {"entry": "solve", "nodes": [{"name": "solve", "kind": "agent", "prompt": "what is {input}"}]}
    registered = client.simulate_post(REGISTRY, json={"name": "own-format", "spec": spec},
                                      headers=keys.headers("operator"))
    assert registered.status_code == 201 and registered.json["format"] == "agentstage"
    run_id = finished_run(client, keys, api_system, "2 + 3", workflow="own-format")
    assert "5" in client.simulate_get(f"/api/v1/runs/{run_id}", headers=keys.headers("viewer")).json["output"]


@pytest.mark.parametrize(("change", "field"), [
    (lambda b: b["spec"]["nodes"][1].update(kind="shell"), "spec.nodes[1].kind"),
    (lambda b: b["spec"]["edges"].append({"from": "final", "to": "ghost"}), "spec.edges[2].to"),
    (lambda b: b["spec"].update(start="ghost"), "spec.start"),
    (lambda b: b["spec"]["edges"].append({"from": "final", "to": "prepare"}), "spec.graph"),
    (lambda b: b.update(name="../../etc/cron.d/x"), "name"),
    (lambda b: b.update(name=".."), "name"),
    (lambda b: b.pop("name"), "spec.name"),
    (lambda b: b.update(spec=[]), "spec"),
    (lambda b: b.update(extra=1), "extra"),
])
def test_a_bad_workflow_is_a_422_naming_the_field(client, keys, api_system, change, field) -> None:
    body = json.loads(json.dumps(POSTMAN))
    change(body)
    answer = client.simulate_post(REGISTRY, json={**body, "persist": True}, headers=keys.headers("operator"))
    assert answer.status_code == 422 and field in answer.json["errors"], answer.text
    from agentstage.runtime.system.graph_runs import workflow_dir
    assert not workflow_dir(api_system.config).exists() or not list(workflow_dir(api_system.config).iterdir())


def test_with_a_coordinator_only_persisted_workflows_register(api_system, ops, keys) -> None:
    from falcon import testing

    from agentstage.api import create_app
    from agentstage.runtime.system.graph_runs import workflow_dir
    from agentstage.runtime.workflow import WorkflowRegistry

    app = create_app(api_system, ops=ops)
    client = testing.TestClient(app)
    refused = client.simulate_post(REGISTRY, json=POSTMAN, headers=keys.headers("operator"))
    assert refused.status_code == 409 and "persist" in refused.json["errors"]
    assert "workflow-from-postman" not in api_system.workflows
    assert client.simulate_post(REGISTRY, json={**POSTMAN, "persist": True},
                                headers=keys.headers("operator")).status_code == 201
    worker = WorkflowRegistry()
    worker.load_dir(workflow_dir(api_system.config))
    assert worker.get("workflow-from-postman").entry == "prepare"
    app.backend.close()


def test_a_persisted_registration_runs_on_a_worker_started_before_it(api_system, ops, keys) -> None:
    from falcon import testing

    from agentstage.api import create_app
    from tests.runtime.distributed.harness import coordinator, worker

    app = create_app(api_system, ops=ops)
    client = testing.TestClient(app)
    with coordinator(ops.config), worker(ops.config.replace(tools="calculator")):
        registered = client.simulate_post(REGISTRY, json={**POSTMAN, "persist": True},
                                          headers=keys.headers("operator"))
        assert registered.status_code == 201, registered.text
        run_id = start_run(client, keys, "what is 6 * 7", workflow="workflow-from-postman")
        outcome = ops.wait(run_id, 60)
    app.backend.close()
    assert outcome["status"] == "completed", outcome
    assert "42" in outcome["output"]
