"""Workflows and graph runs over HTTP: list, show with Mermaid, start, pause for input, resume."""

from __future__ import annotations

from tests.api.helpers import finished_run, status, wait_for, waiting_graph_run


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
