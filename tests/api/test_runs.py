"""Runs, sessions, checkpoints and attempts over HTTP."""

from __future__ import annotations

from agentstage.runtime.clock import utc_now
from agentstage.runtime.state import Checkpoint, Event, RunAttempt
from tests.api.helpers import finished_run


def _stored_run(api_system, run_id: str, session_id: str, created_at: str, status_event: str = "run.completed") -> None:
    api_system.write([
        Event(run_id, 1, "run.started", created_at, session_id, {"input": "x", "workflow": "wf", "worker_id": "w1"}),
        Event(run_id, 2, status_event, created_at, session_id, {"output": "y"}),
    ])


def test_lists_runs_newest_first_with_keyset_pages(client, keys, api_system) -> None:
    for n in range(5):
        _stored_run(api_system, f"run-{n}", "s1", f"2030-01-01T00:00:0{n}.000Z")
    headers = keys.headers("viewer")
    first = client.simulate_get("/api/v1/runs", params={"limit": 2}, headers=headers).json
    assert [r["run_id"] for r in first["items"]] == ["run-4", "run-3"]
    second = client.simulate_get("/api/v1/runs", params={"limit": 2, "cursor": first["next_cursor"]},
                                 headers=headers).json
    assert [r["run_id"] for r in second["items"]] == ["run-2", "run-1"]
    oldest = client.simulate_get("/api/v1/runs", params={"limit": 2, "sort": "asc"}, headers=headers).json
    assert [r["run_id"] for r in oldest["items"]] == ["run-0", "run-1"]


def test_filters_runs_by_status_session_workflow_worker_and_time(client, keys, api_system) -> None:
    _stored_run(api_system, "ok-run", "s1", "2030-01-01T00:00:00.000Z")
    _stored_run(api_system, "bad-run", "s2", "2030-01-02T00:00:00.000Z", "run.failed")
    headers = keys.headers("viewer")

    def ids(**query):
        return [r["run_id"] for r in client.simulate_get("/api/v1/runs", params=query, headers=headers).json["items"]]

    assert ids(status="failed") == ["bad-run"]
    assert ids(session_id="s1") == ["ok-run"]
    assert ids(workflow="wf", worker="w1") == ["bad-run", "ok-run"]
    assert ids(since="2030-01-01T12:00:00+00:00") == ["bad-run"]
    assert ids(until="2030-01-01T12:00:00Z") == ["ok-run"]


def _run(run_id: str, created_at: str, input_: str, output: str, **data) -> list[Event]:
    return [Event(run_id, 1, "run.started", created_at, "s1", {"input": input_, **data}),
            Event(run_id, 2, "run.completed", created_at, "s1", {"output": output})]


def test_searches_runs_by_id_prefix_text_agent_and_lists_children_of_graph_runs(client, keys, api_system) -> None:
    api_system.write([
        *_run("abc123", "2030-01-01T00:00:01.000Z", "Summarise the 50% report", "done", agent="writer"),
        *_run("abd999", "2030-01-01T00:00:02.000Z", "hello", "The ANSWER is 42", agent="default"),
        *_run("graph-1", "2030-01-01T00:00:03.000Z", "triage this", "ok", kind="graph", workflow="wf"),
        *_run("graph-1.2", "2030-01-01T00:00:04.000Z", "step two", "ok", parent_run_id="graph-1"),
        *_run("graph-1.3.1", "2030-01-01T00:00:05.000Z", "branch", "ok", parent_run_id="graph-1"),
        *_run("graph-1.x", "2030-01-01T00:00:06.000Z", "not a child: no parent link", "ok"),
    ])
    headers = keys.headers("viewer")

    def ids(**query):
        result = client.simulate_get("/api/v1/runs", params=query, headers=headers)
        assert result.status_code == 200, result.json
        return [r["run_id"] for r in result.json["items"]]

    assert ids(id_prefix="ab") == ["abd999", "abc123"]
    assert ids(id_prefix="abc") == ["abc123"]
    assert ids(q="answer") == ["abd999"], "output, any case"
    assert ids(q="50%") == ["abc123"] and ids(q="5_%") == [], "% and _ are literal"
    assert ids(agent="writer") == ["abc123"]
    assert ids(top_level="true", since="2030-01-01T00:00:03Z") == ["graph-1.x", "graph-1"]
    assert ids(parent_run_id="graph-1", sort="asc") == ["graph-1.2", "graph-1.3.1"]
    assert client.simulate_get("/api/v1/runs?parent_run_id=graph-1&parent_run_id=abc123",
                               headers=headers).json["items"][0]["run_id"] == "graph-1.3.1"


def test_bad_listing_parameters_are_422_naming_the_field(client, keys) -> None:
    headers = keys.headers("viewer")
    for query, field in (({"limit": "x"}, "limit"), ({"status": "zombie"}, "status"), ({"cursor": "!!"}, "cursor"),
                         ({"since": "yesterday"}, "since"), ({"colour": "red"}, "colour"), ({"sort": "up"}, "sort"),
                         ({"id_prefix": "a b"}, "id_prefix"), ({"q": ""}, "q"), ({"top_level": "maybe"}, "top_level"),
                         ({"parent_run_id": "x y"}, "parent_run_id"), ({"agent": "a" * 201}, "agent")):
        result = client.simulate_get("/api/v1/runs", params=query, headers=headers)
        assert result.status_code == 422, query
        assert field in result.json["errors"], result.json


def test_starts_a_run_and_reads_it_with_its_events(client, keys, api_system) -> None:
    run_id = finished_run(client, keys, api_system, "calculate 6 * 7", metadata={"ticket": "T-1"})
    headers = keys.headers("viewer")
    run = client.simulate_get(f"/api/v1/runs/{run_id}", headers=headers).json
    assert run["status"] == "completed" and "42" in run["output"] and run["metadata"] == {"ticket": "T-1"}
    events = client.simulate_get(f"/api/v1/runs/{run_id}/events", headers=headers).json
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "run.started" and events[-1]["type"] == "run.completed"
    later = client.simulate_get(f"/api/v1/runs/{run_id}/events", params={"after_seq": 2}, headers=headers).json
    assert later[0]["seq"] == 3


def test_run_start_validates_agent_and_refuses_an_existing_run_id(client, keys, api_system) -> None:
    headers = keys.headers("operator")
    unknown = client.simulate_post("/api/v1/runs", json={"input": "hi", "agent": "ghost"}, headers=headers)
    assert unknown.status_code == 422 and "agent" in unknown.json["errors"]
    blank = client.simulate_post("/api/v1/runs", json={"input": "   ", "extra": 1}, headers=headers)
    assert blank.status_code == 422 and set(blank.json["errors"]) == {"input", "extra"}
    run_id = finished_run(client, keys, api_system)
    again = client.simulate_post("/api/v1/runs", json={"input": "hi", "run_id": run_id}, headers=headers)
    assert again.status_code == 409 and "run_id" in again.json["errors"]


def test_unknown_ids_are_404(client, keys) -> None:
    headers = keys.headers("viewer")
    for path in ("/api/v1/runs/nope", "/api/v1/runs/nope/events", "/api/v1/runs/nope/checkpoints",
                 "/api/v1/runs/nope/checkpoints/1", "/api/v1/sessions/nope/runs", "/api/v1/runtime/runs/nope/attempts",
                 "/api/v1/runs/nope/events/stream"):
        result = client.simulate_get(path, headers=headers)
        assert result.status_code == 404, path
        assert result.json["title"] == "Not found"


def test_checkpoints_are_listed_without_state_and_read_with_it(client, keys, api_system) -> None:
    run_id = finished_run(client, keys, api_system)
    api_system.write([Checkpoint(run_id, step, f"node{step}", None, {"step": step}, utc_now()) for step in (1, 2)])
    headers = keys.headers("viewer")
    listed = client.simulate_get(f"/api/v1/runs/{run_id}/checkpoints", headers=headers).json
    assert [c["step"] for c in listed] == [1, 2] and "state" not in listed[0]
    one = client.simulate_get(f"/api/v1/runs/{run_id}/checkpoints/2", headers=headers).json
    assert one["state"] == {"step": 2} and one["node"] == "node2"


def test_sessions_and_their_runs(client, keys, api_system) -> None:
    first = finished_run(client, keys, api_system, session_id="chat-1")
    second = finished_run(client, keys, api_system, session_id="chat-1")
    headers = keys.headers("viewer")
    sessions = client.simulate_get("/api/v1/sessions", headers=headers).json["items"]
    assert {"session_id": "chat-1", "runs": 2} == {k: sessions[0][k] for k in ("session_id", "runs")}
    runs = client.simulate_get("/api/v1/sessions/chat-1/runs", headers=headers).json["items"]
    assert [r["run_id"] for r in runs] == [first, second]


def test_attempts_workers_metrics_and_tools(client, keys, api_system) -> None:
    run_id = finished_run(client, keys, api_system)
    api_system.write([RunAttempt(run_id, 1, "completed", utc_now(), "task-1", "w1", utc_now())])
    headers = keys.headers("viewer")
    attempts = client.simulate_get(f"/api/v1/runtime/runs/{run_id}/attempts", headers=headers).json
    assert attempts[0]["task_id"] == "task-1"
    assert client.simulate_get("/api/v1/runtime/workers", headers=headers).json == []
    metrics = client.simulate_get("/api/v1/metrics/summary", headers=headers).json
    assert metrics["by_status"] == {"completed": 1} and metrics["duration_ms_p95"] >= 0
    assert metrics["tokens"][0]["provider"] == "scripted" and metrics["tokens"][0]["total_tokens"] > 0
    tools = client.simulate_get("/api/v1/tools/registry", headers=headers).json
    assert {"calculator", "gate"} <= {t["name"] for t in tools}


SECRET = "ghp_" + "a1B2" * 9


def test_secrets_in_runs_events_and_checkpoints_are_redacted_in_every_response(client, keys, api_system) -> None:
    api_system.write([
        Event("leaky", 1, "run.started", "2030-01-01T00:00:00.000Z", "s1",
              {"input": f"deploy with token {SECRET}", "metadata": {"note": f"password={SECRET}"}}),
        Event("leaky", 2, "tool.result", "2030-01-01T00:00:01.000Z", "s1",
              {"result": {"echo": [f"Authorization: Bearer {SECRET}"]}}, tool="http", error=f"bad key {SECRET}"),
        Event("leaky", 3, "run.failed", "2030-01-01T00:00:02.000Z", "s1", {}, error=f"failed with {SECRET}"),
        Checkpoint("leaky", 1, "n", None, {"env": {"GITHUB_TOKEN": SECRET}}, "2030-01-01T00:00:01.000Z"),
    ])
    headers = keys.headers("viewer")
    bodies = [client.simulate_get(path, headers=headers).text for path in (
        "/api/v1/runs", "/api/v1/runs/leaky", "/api/v1/runs/leaky/events", "/api/v1/runs/leaky/checkpoints/1",
        "/api/v1/sessions/s1/runs", "/api/v1/runs/leaky/events/stream?timeout=1")]
    for body in bodies:
        assert "a1B2a1B2" not in body and "REDACTED:github_token" in body, body[:300]
    run = client.simulate_get("/api/v1/runs/leaky", headers=headers).json
    assert run["input"] == "deploy with token [REDACTED:github_token]"
    assert run["metadata"] == {"note": "password=[REDACTED:github_token]"}
    assert api_system.reader().get_run("leaky").input.endswith(SECRET), "the store keeps what the run saw"
