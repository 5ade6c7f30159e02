"""Steering routes in local mode: served like in queued mode, 409 with the reason where they cannot apply."""

from __future__ import annotations

from tests.api.helpers import failed_run, status, wait_for, waiting_graph_run


def _audit(client, keys, action: str) -> list[dict]:
    return client.simulate_get("/api/v1/audit", params={"action": action}, headers=keys.headers("admin")).json["items"]


def test_cancel_of_a_waiting_graph_run_ends_it_at_once(client, keys, api_system) -> None:
    run_id = waiting_graph_run(client, keys, api_system)
    result = client.simulate_post(f"/api/v1/runtime/runs/{run_id}/cancel", json={"reason": "no answer"},
                                  headers=keys.headers("operator"))
    assert result.status_code == 202 and result.json["status"] == "cancelled"
    assert status(api_system, run_id) == "cancelled"
    again = client.simulate_post(f"/api/v1/runtime/runs/{run_id}/cancel", headers=keys.headers("operator"))
    assert again.status_code == 409 and again.json["description"] == f"run {run_id} already cancelled"
    assert [row["outcome"] for row in _audit(client, keys, "runtime.run.cancel")] == ["ok"]


def test_requeue_runs_a_failed_run_again_as_its_next_attempt(client, keys, api_system) -> None:
    run_id = failed_run(api_system)
    result = client.simulate_post(f"/api/v1/runtime/runs/{run_id}/requeue", headers=keys.headers("operator"))
    assert result.status_code == 202 and result.json == {"run_id": run_id, "status": "requeued", "dlq_id": None,
                                                         "attempt": 2}
    wait_for(lambda: status(api_system, run_id) == "completed")
    refused = client.simulate_post(f"/api/v1/runtime/runs/{run_id}/requeue", headers=keys.headers("operator"))
    assert refused.status_code == 409 and "only failed or cancelled" in refused.json["description"]
    assert [row["outcome"] for row in _audit(client, keys, "runtime.run.requeue")] == ["ok"]


def test_queue_routes_answer_409_with_the_reason(client, keys) -> None:
    for method, path in (("GET", "/api/v1/runtime/queues"), ("GET", "/api/v1/runtime/details"),
                         ("GET", "/api/v1/runtime/dlq"), ("POST", "/api/v1/runtime/dlq/1-0/requeue"),
                         ("DELETE", "/api/v1/runtime/dlq/1-0")):
        result = client.simulate_request(method, path, headers=keys.headers("operator"))
        assert result.status_code == 409, path
        assert result.json["title"] == "Not applicable" and "not queued in local mode" in result.json["description"]


def test_a_refused_resume_is_audited_as_rejected_not_done(client, keys, api_system) -> None:
    run_id = failed_run(api_system)
    result = client.simulate_post(f"/api/v1/runs/{run_id}/resume", headers=keys.headers("operator"))
    assert result.status_code == 409 and result.json["description"] == f"run {run_id} is not a graph run"
    # NOTE: a rejected request's audit row is written after the answer (record_async), so it is waited for.
    [rejected] = wait_for(lambda: _audit(client, keys, "request.rejected"))
    assert rejected["detail"] == {"status": 409} and _audit(client, keys, "run.resume") == []
