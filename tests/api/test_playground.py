"""Playground and flow routes at the reference's paths, with its clients' requests as written: runs start
through the run control and are stored; the stream names its events and carries only this run's; a
viewer cannot run anything; bad fields are a 422 naming the field."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from falcon import testing

from agentstage.api import create_app
from tests.api.browser import served

PLAYGROUND = "/api/v1/playground"
FLOWS = "/api/v1/flows"


def named_events(body: str) -> list[tuple[str, dict]]:
    """(event name, data) of each SSE message."""
    found = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            found.append((fields["event"], json.loads(fields["data"])))
    return found


def test_the_reference_clients_playground_run_works_as_written(client, keys, api_system) -> None:
    result = client.simulate_post(f"{PLAYGROUND}/run", json={"input": "Diagnose why retries keep happening",
                                                              "flow": "support-engineer", "workflow": "basic"},
                                  headers=keys.headers("operator"))
    assert result.status_code == 200, result.text
    answer = result.json
    assert (answer["status"], answer["appliedSkills"], answer["flow"]) == ("completed", ["incident-response"],
                                                                           "support-engineer")
    row = api_system.get_run(answer["runId"])
    assert row.metadata["source"] == "playground" and row.agent.startswith("playground-")
    spec = {s.name: s for s in api_system.agents()}[row.agent]
    assert spec.system_prompt.startswith("You are a support engineer.") and "## Skill: incident-response" in \
        spec.system_prompt
    again = client.simulate_post(f"{PLAYGROUND}/run", json={"input": "and now?", "flow": "support-engineer",
                                                             "sessionId": answer["sessionId"]},
                                 headers=keys.headers("operator")).json
    assert again["sessionId"] == answer["sessionId"] and api_system.get_run(again["runId"]).agent == row.agent


def test_a_plain_input_runs_the_configured_agent_and_a_failed_run_answers_200_failed(client, keys) -> None:
    answer = client.simulate_post(f"{PLAYGROUND}/run", json={"input": "calculate 2 + 3"},
                                  headers=keys.headers("operator")).json
    assert answer["status"] == "completed" and "5" in answer["output"] and answer["provider"] == "scripted"
    timed = client.simulate_post(f"{PLAYGROUND}/run", json={"input": "wait for the gate", "timeout": 0.2},
                                 headers=keys.headers("operator")).json
    assert timed["status"] == "failed" and "did not end within 0.2s" in timed["error"]


def test_the_stream_names_its_events_and_carries_only_this_run(app, client, keys, api_system) -> None:
    other = client.simulate_post(f"{PLAYGROUND}/run", json={"input": "calculate 1 + 1"},
                                 headers=keys.headers("operator")).json["runId"]
    # NOTE: over a real server: the test client disconnects once it has sent the body, which ends a stream
    with served(app) as base:
        result = httpx.post(f"{base}{PLAYGROUND}/stream", json={"input": "Stream this response",
                                                               "flow": "support-engineer"},
                            headers=keys.headers("operator"), timeout=30)
    assert result.status_code == 200 and result.headers["content-type"].startswith("text/event-stream")
    events = named_events(result.text)
    names = [name for name, _ in events]
    assert names[-1] == "complete" and "delta" in names and "progress" in names
    complete = events[-1][1]
    assert complete["status"] == "completed"
    deltas = [data["text"] for name, data in events if name == "delta"]
    assert len(deltas) > 1 and "".join(deltas) == complete["output"], "every token chunk, in order"
    runs = {data["runId"] for name, data in events if name == "progress"}
    assert runs == {complete["runId"]} and other not in runs
    assert [data["name"] for name, data in events if name == "progress"][-1] == "run.completed"


def test_flows_are_saved_read_run_and_deleted_as_the_reference_clients_do(client, keys, api_system) -> None:
    saved = client.simulate_post(FLOWS, json={"flow": {"name": "console-helper", "description": "Simple persisted flow",
                                                       "workflow": "basic", "tools": ["@default"],
                                                       "systemPrompt": "You are a helpful framework console "
                                                                       "assistant."}, "persist": True},
                                 headers=keys.headers("operator"))
    assert saved.status_code == 201 and saved.json["persisted"] is True, saved.text
    assert (api_system.flows.folder / "console-helper.json").exists()
    listed = client.simulate_get(FLOWS, headers=keys.headers("viewer")).json
    assert {"console-helper", "support-engineer"} <= {f["name"] for f in listed["flows"]}
    builtin = client.simulate_get(f"{FLOWS}/support-engineer", headers=keys.headers("viewer")).json
    assert builtin["builtin"] and builtin["skills"] == ["incident-response"]
    ran = client.simulate_post(f"{FLOWS}/console-helper/run",
                               json={"input": "Summarize the current system status in 3 bullets."},
                               headers=keys.headers("operator"))
    assert ran.status_code == 200 and ran.json["status"] == "completed" and ran.json["flow"] == "console-helper"
    assert client.simulate_delete(f"{FLOWS}/console-helper", headers=keys.headers("operator")).json == {"ok": True}
    assert client.simulate_get(f"{FLOWS}/console-helper", headers=keys.headers("viewer")).status_code == 404
    assert not (api_system.flows.folder / "console-helper.json").exists()
    assert client.simulate_delete(f"{FLOWS}/support-engineer", headers=keys.headers("operator")).status_code == 409
    actions = [r[0] for r in api_system.reader().connection.execute(
        "SELECT action FROM audit_log WHERE action LIKE 'flow.%' OR action = 'playground.run' ORDER BY ts")]
    assert actions == ["flow.upsert", "playground.run", "flow.delete"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "input"), ({"input": "x", "flow": "nope"}, "flow"), ({"input": "x", "skills": ["nope"]}, "skills"),
    ({"input": "x", "history": [{"role": "user", "content": "hi"}]}, "history"),
    ({"input": "x", "guardrails": ["nope"]}, "guardrails"), ({"input": "x", "tools": ["no_such_tool"]}, "tools"),
    ({"input": "x", "promptRef": "nope"}, "promptRef"), ({"input": "x", "promptRef": "sre"}, "promptInput"),
    ({"input": "x", "workflow": "nothing"}, "workflow"), ({"input": "x", "agent": "nobody"}, "agent"),
    ({"input": "x" * 100_001}, "input"),
])
def test_bad_fields_are_a_422_naming_the_field_and_start_no_run(client, keys, api_system, body, field) -> None:
    before = api_system.list_runs(limit=100).items
    result = client.simulate_post(f"{PLAYGROUND}/run", json=body, headers=keys.headers("operator"))
    assert result.status_code == 422 and field in result.json["errors"], result.text
    assert api_system.list_runs(limit=100).items == before


def test_a_viewer_runs_nothing(client, keys) -> None:
    for path, body in ((f"{PLAYGROUND}/run", {"input": "x"}), (f"{PLAYGROUND}/stream", {"input": "x"}),
                       (f"{FLOWS}/support-engineer/run", {"input": "x"})):
        assert client.simulate_post(path, json=body, headers=keys.headers("viewer")).status_code == 403


def test_in_queued_mode_a_custom_configuration_is_a_409_with_the_reason(api_system, ops, keys) -> None:
    queued = testing.TestClient(create_app(api_system, ops=ops))
    result = queued.simulate_post(f"{PLAYGROUND}/run", json={"input": "x", "systemPrompt": "be brief"},
                                  headers=keys.headers("operator"))
    assert result.status_code == 409 and "local mode only" in result.json["description"]


def test_runs_waiting_in_the_playground_hold_no_api_thread(app, keys, api_system, gate) -> None:
    waiting = api_system.config.api_threads + 4

    async def scenario() -> tuple[list, int]:
        async with testing.ASGIConductor(app) as conductor:
            runs = [asyncio.create_task(conductor.simulate_post(
                f"{PLAYGROUND}/run", json={"input": "wait for the gate"}, headers=keys.headers("operator")))
                for _ in range(waiting)]
            while len([r for r in api_system.list_runs(limit=100).items if r.status == "running"]) < waiting:
                await asyncio.sleep(0.05)
            listed = await asyncio.wait_for(conductor.simulate_get("/api/v1/runs", headers=keys.headers("viewer")),
                                            timeout=20)
            gate.set()
            return await asyncio.gather(*runs), listed.status_code

    answers, listed = asyncio.run(scenario())
    assert listed == 200, "the API still answers while more runs wait than it has threads"
    assert [a.json["status"] for a in answers] == ["completed"] * waiting
