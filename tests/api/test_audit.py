"""Audit: mutations are recorded with their change; denials and refused mutations too, bounded per client;
no secrets."""

from __future__ import annotations

import json

from falcon import testing

from agentstage.api import create_app
from agentstage.api.audit import BURST, TARGET_LIMIT, SourceLimiter
from tests.api.helpers import finished_run, wait_for


def _audit(client, keys, **query) -> list[dict]:
    result = client.simulate_get("/api/v1/audit", params=query, headers=keys.headers("admin"))
    assert result.status_code == 200, result.json
    return result.json["items"]


def test_key_creation_is_audited_with_caller_request_id_and_client(client, keys) -> None:
    created = client.simulate_post("/api/v1/auth/keys", json={"role": "operator", "name": "ci"},
                                   headers={**keys.headers("admin"), "X-Request-ID": "req-42"})
    rows = _audit(client, keys, action="auth.key.create")
    assert len(rows) == 1
    row = rows[0]
    assert row["outcome"] == "ok" and row["key_id"] == keys.ids["admin"] and row["role"] == "admin"
    assert row["target"] == created.json["id"] and row["request_id"] == "req-42" and row["client"]
    assert created.json["secret"] not in json.dumps(rows)


def test_mutation_and_audit_row_are_written_together(client, keys, api_system) -> None:
    run_id = finished_run(client, keys, api_system)
    result = client.simulate_post("/api/v1/events", json={"run_id": run_id, "type": "ci.deployed"},
                                  headers=keys.headers("operator"))
    seq = result.json["seq"]
    row = _audit(client, keys, action="event.ingest")[0]
    assert row["target"] == f"{run_id}#{seq}"
    assert api_system.reader().count("audit_log") >= 2
    assert _audit(client, keys, action="run.start")[0]["target"] == run_id


def test_denials_are_audited(client, keys) -> None:
    client.simulate_get("/api/v1/audit", headers=keys.headers("viewer"))
    client.simulate_post("/api/v1/runs", json={"input": "hi"})
    client.simulate_get("/api/v1/runs", headers=keys.headers("revoked"))
    rows = wait_for(lambda: len(_audit(client, keys, outcome="denied")) >= 3 and _audit(client, keys, outcome="denied"))
    by_target = {(r["target"], r["detail"]["status"]): r for r in rows}
    viewer = by_target[("GET /api/v1/audit", 403)]
    assert viewer["key_id"] == keys.ids["viewer"] and viewer["detail"]["reason"] == "requires admin"
    assert by_target[("POST /api/v1/runs", 401)]["key_id"] is None
    assert by_target[("GET /api/v1/runs", 401)]["key_id"] == keys.ids["revoked"]


def test_refused_mutations_are_audited(client, keys) -> None:
    client.simulate_post("/api/v1/runs", json={"input": "hi", "agent": "ghost"}, headers=keys.headers("operator"))
    rows = wait_for(lambda: _audit(client, keys, outcome="rejected"))
    assert rows[0]["target"] == "POST /api/v1/runs" and rows[0]["detail"] == {"status": 422}


def test_audit_pages_with_a_cursor_and_filters_by_time(client, keys) -> None:
    for name in ("a", "b", "c"):
        client.simulate_post("/api/v1/auth/keys", json={"role": "viewer", "name": name}, headers=keys.headers("admin"))
    first = client.simulate_get("/api/v1/audit", params={"limit": 2, "action": "auth.key.create"},
                                headers=keys.headers("admin")).json
    second = client.simulate_get("/api/v1/audit", params={"limit": 2, "action": "auth.key.create",
                                                          "cursor": first["next_cursor"]},
                                 headers=keys.headers("admin")).json
    assert len(first["items"]) == 2 and len(second["items"]) == 1 and second["next_cursor"] is None
    assert _audit(client, keys, since="2999-01-01T00:00:00Z") == []


def test_a_flood_of_denials_writes_a_bounded_number_of_short_rows(api_system, keys) -> None:
    app = create_app(api_system)
    client = testing.TestClient(app)
    long_run_id = "r" * 4000
    for _ in range(2000):
        assert client.simulate_get(f"/api/v1/runs/{long_run_id}").status_code == 401
    client.simulate_get("/api/v1/runs", headers=keys.headers("viewer"))
    wait_for(lambda: len(_denials(client, keys)) >= BURST)
    rows = _denials(client, keys)
    assert len(rows) == BURST and all(len(row["target"]) <= TARGET_LIMIT + 3 for row in rows)


def _denials(client, keys) -> list[dict]:
    found = client.simulate_get("/api/v1/audit", params={"action": "access.denied", "limit": 200},
                                headers=keys.headers("admin"))
    return found.json["items"]


def test_the_source_limiter_reports_what_it_left_out_once_the_window_ends() -> None:
    now = [0.0]
    limiter = SourceLimiter(burst=2, window=10.0, sources=100, clock=lambda: now[0])
    assert [limiter.admit("a")[0] for _ in range(5)] == [True, True, False, False, False]
    assert limiter.admit("b") == (True, [])
    now[0] = 11.0
    admitted, ended = limiter.admit("b")
    assert admitted and ended == [("a", 3)]
    crowded = SourceLimiter(burst=1, window=10.0, sources=2, clock=lambda: 0.0)
    crowded.admit("x"), crowded.admit("x"), crowded.admit("y")
    assert crowded.admit("z")[1] == [("x", 1)], "the oldest source makes room, and its count is kept"
