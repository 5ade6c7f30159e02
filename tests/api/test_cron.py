"""Schedule routes at the reference's paths (`/cron/jobs`): create, list, read, enable/disable, trigger, history,
delete; 4xx answers name the field; every change is audited; a viewer reads, an operator changes."""

from __future__ import annotations

import asyncio

import pytest
from falcon import testing

from tests.api.helpers import status, wait_for

JOBS = "/api/v1/cron/jobs"


def create(client, keys, name: str = "nightly", **body) -> dict:
    payload = {"name": name, "cronExpr": "0 2 * * *", "timezone": "Europe/Paris",
               "config": {"input": "What is 6 * 7?"}, **body}
    result = client.simulate_post(JOBS, json=payload, headers=keys.headers("operator"))
    assert result.status_code == 201, result.text
    return result.json


def audit_rows(api_system, prefix: str = "cron.") -> list[tuple[str, str, str]]:
    rows = api_system.reader().connection.execute(
        "SELECT action, target, role FROM audit_log WHERE action LIKE ? ORDER BY ts", (prefix + "%",))
    return list(rows)


def test_a_created_schedule_is_listed_and_read_in_the_reference_shape(client, keys) -> None:
    job = create(client, keys)
    assert {k: job[k] for k in ("name", "cronExpr", "timezone", "intervalSeconds", "enabled", "runCount", "lastRun",
                                "lastError", "graceSeconds")} == {
        "name": "nightly", "cronExpr": "0 2 * * *", "timezone": "Europe/Paris", "intervalSeconds": None,
        "enabled": True, "runCount": 0, "lastRun": None, "lastError": None, "graceSeconds": 300.0}
    assert job["config"] == {"input": "What is 6 * 7?", "agent": "default", "workflow": None}
    assert job["nextRun"].endswith(("T01:00:00.000Z", "T00:00:00.000Z"))
    listed = client.simulate_get(JOBS, headers=keys.headers("viewer"))
    assert [j["name"] for j in listed.json] == ["nightly"]
    assert client.simulate_get(f"{JOBS}/nightly", headers=keys.headers("viewer")).json == listed.json[0]
    assert client.simulate_get(f"{JOBS}/missing", headers=keys.headers("viewer")).status_code == 404


def test_an_interval_schedule_has_no_cron_expression(client, keys) -> None:
    job = create(client, keys, "poll", cronExpr=None, intervalSeconds=900)
    assert (job["cronExpr"], job["intervalSeconds"]) == (None, 900.0)


@pytest.mark.parametrize(("body", "field"), [
    ({"cronExpr": "61 * * * *"}, "cronExpr"),
    ({"cronExpr": "* * * *"}, "cronExpr"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"intervalSeconds": 60}, "cronExpr"),
    ({"cronExpr": None, "intervalSeconds": 0.1}, "intervalSeconds"),
    ({"graceSeconds": -1}, "graceSeconds"),
    ({"name": "no spaces"}, "name"),
    ({"config": {"workflow": "no-such-flow"}}, "config.workflow"),
    ({"config": {"agent": "nobody"}}, "config.agent"),
    ({"config": {"tools": ["shell"]}}, "config"),
    ({"config": {"systemPrompt": "be terse"}}, "config"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_definitions_are_422_naming_the_field(client, keys, body, field) -> None:
    payload = {"name": "s", "cronExpr": "0 2 * * *", **body}
    payload = {k: v for k, v in payload.items() if v is not None}
    result = client.simulate_post(JOBS, json=payload, headers=keys.headers("operator"))
    assert result.status_code == 422, result.text
    assert field in result.json["errors"], result.json
    assert client.simulate_get(JOBS, headers=keys.headers("viewer")).json == []


def test_a_taken_name_is_409(client, keys) -> None:
    create(client, keys)
    again = client.simulate_post(JOBS, json={"name": "nightly", "intervalSeconds": 60},
                                 headers=keys.headers("operator"))
    assert again.status_code == 409 and "name" in again.json["errors"]


def test_racing_creates_of_one_name_give_one_schedule_and_409s_for_the_rest(app, keys, api_system) -> None:
    bodies = [{"name": "race", "intervalSeconds": 60 + n, "config": {"input": f"caller {n}"}} for n in range(8)]

    async def all_at_once() -> list:
        async with testing.ASGIConductor(app) as conductor:
            return await asyncio.gather(*(conductor.simulate_post(JOBS, json=body, headers=keys.headers("operator"))
                                          for body in bodies))

    answers = asyncio.run(all_at_once())
    created = [r for r in answers if r.status_code == 201]
    refused = [r for r in answers if r.status_code == 409]
    assert len(created) == 1 and len(refused) == 7, [r.status_code for r in answers]
    assert all(r.json["errors"] == {"name": ["a schedule named 'race' exists"]} for r in refused)
    [job] = [j for j in api_system_jobs(api_system) if j["name"] == "race"]
    assert job["every_s"] == created[0].json["intervalSeconds"], "the stored schedule is the one answered 201"
    assert audit_rows(api_system) == [("cron.create", "race", "operator")], "a refused create audits nothing"


def api_system_jobs(api_system) -> list[dict]:
    from agentstage.runtime.state.schedules import list_schedules

    return list_schedules(api_system.reader())


def test_disable_enable_and_change_with_patch(client, keys) -> None:
    create(client, keys)
    off = client.simulate_patch(f"{JOBS}/nightly", json={"enabled": False}, headers=keys.headers("operator"))
    assert off.status_code == 200 and (off.json["enabled"], off.json["nextRun"]) == (False, None)
    on = client.simulate_patch(f"{JOBS}/nightly", json={"enabled": True}, headers=keys.headers("operator"))
    assert on.json["enabled"] is True and on.json["nextRun"] is not None
    moved = client.simulate_patch(f"{JOBS}/nightly", json={"intervalSeconds": 120, "config": {"input": "again"}},
                                  headers=keys.headers("operator"))
    assert (moved.json["cronExpr"], moved.json["intervalSeconds"], moved.json["config"]["input"]) == (
        None, 120.0, "again")
    empty = client.simulate_patch(f"{JOBS}/nightly", json={}, headers=keys.headers("operator"))
    assert empty.status_code == 422 and "_schema" in empty.json["errors"]
    bad = client.simulate_patch(f"{JOBS}/nightly", json={"cronExpr": "bad"}, headers=keys.headers("operator"))
    assert bad.status_code == 422 and "cronExpr" in bad.json["errors"]
    missing = client.simulate_patch(f"{JOBS}/gone", json={"enabled": False}, headers=keys.headers("operator"))
    assert missing.status_code == 404


def test_trigger_starts_a_run_that_the_history_shows(client, keys, api_system) -> None:
    create(client, keys, enabled=False)
    fired = client.simulate_post(f"{JOBS}/nightly/trigger", headers=keys.headers("operator"))
    assert fired.status_code == 200, fired.text
    assert (fired.json["name"], fired.json["status"], fired.json["error"]) == ("nightly", "started", None)
    run_id = fired.json["runId"]
    wait_for(lambda: status(api_system, run_id) == "completed")
    history = client.simulate_get(f"{JOBS}/nightly/history", headers=keys.headers("viewer")).json
    assert history["count"] == 1 and history["name"] == "nightly"
    [entry] = history["runs"]
    assert (entry["trigger"], entry["status"], entry["runId"]) == ("manual", "completed", run_id)
    assert "42" in entry["output"] and entry["durationMs"] >= 0
    logs = client.simulate_get(f"{JOBS}/nightly/logs", params={"limit": 5}, headers=keys.headers("viewer")).json
    assert logs["logs"] == history["runs"]
    job = client.simulate_get(f"{JOBS}/nightly", headers=keys.headers("viewer")).json
    assert (job["runCount"], job["lastRunId"], job["lastStatus"]) == (1, run_id, "completed")
    assert client.simulate_post(f"{JOBS}/gone/trigger", headers=keys.headers("operator")).status_code == 404
    bad = client.simulate_get(f"{JOBS}/nightly/history", params={"limit": 0}, headers=keys.headers("viewer"))
    assert bad.status_code == 422 and "limit" in bad.json["errors"]


def test_delete_removes_the_schedule(client, keys) -> None:
    create(client, keys)
    gone = client.simulate_delete(f"{JOBS}/nightly", headers=keys.headers("operator"))
    assert (gone.status_code, gone.json) == (200, {"status": "removed"})
    assert client.simulate_get(f"{JOBS}/nightly", headers=keys.headers("viewer")).status_code == 404
    assert client.simulate_delete(f"{JOBS}/nightly", headers=keys.headers("operator")).status_code == 404


def test_every_change_is_audited_with_its_caller(client, keys, api_system) -> None:
    create(client, keys)
    client.simulate_patch(f"{JOBS}/nightly", json={"enabled": False}, headers=keys.headers("operator"))
    client.simulate_post(f"{JOBS}/nightly/trigger", headers=keys.headers("operator"))
    client.simulate_delete(f"{JOBS}/nightly", headers=keys.headers("admin"))
    assert audit_rows(api_system) == [("cron.create", "nightly", "operator"), ("cron.update", "nightly", "operator"),
                                      ("cron.trigger", "nightly", "operator"), ("cron.delete", "nightly", "admin")]


def test_a_viewer_reads_but_does_not_change_schedules(client, keys, api_system) -> None:
    create(client, keys)
    viewer = keys.headers("viewer")
    denials = lambda: list(api_system.reader().connection.execute(  # noqa: E731
        "SELECT count(*) FROM audit_log WHERE action = 'access.denied'"))[0][0]
    before = denials()
    assert client.simulate_get(JOBS, headers=viewer).status_code == 200
    assert client.simulate_post(JOBS, json={"name": "v", "intervalSeconds": 60}, headers=viewer).status_code == 403
    assert client.simulate_patch(f"{JOBS}/nightly", json={"enabled": False}, headers=viewer).status_code == 403
    assert client.simulate_post(f"{JOBS}/nightly/trigger", headers=viewer).status_code == 403
    assert client.simulate_delete(f"{JOBS}/nightly", headers=viewer).status_code == 403
    wait_for(lambda: denials() == before + 4)
    assert client.simulate_get(f"{JOBS}/nightly", headers=viewer).json["enabled"] is True
