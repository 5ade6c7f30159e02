"""Distributed runtime routes over the suite's redis-server: queues, DLQ, details, cancel, requeue, enqueue."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import redis
from falcon import testing

from agentstage.runtime.wire import from_wire
from agentstage.api import create_app, rbac
from agentstage.api.openapi import routed_operations
from agentstage.runtime.clock import utc_now
from agentstage.runtime.control import QueuedControl
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.state import Event
from agentstage.runtime.streams import StreamLayout
from tests.api.helpers import GATE_PROMPT, failed_run, finished_run, route_matrix, start_run
from tests.runtime.distributed.harness import coordinator, worker

PREFIX = "apitest"


@pytest.fixture
def dclient(api_system, ops) -> testing.TestClient:
    return testing.TestClient(create_app(api_system, ops=ops))


@pytest.fixture
def running_coordinator(ops):
    """A coordinator on the API's store and Redis prefix: requeues wait for its answer."""
    with coordinator(ops.config) as node:
        yield node


@pytest.fixture
def r(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def _dead_letter(r: redis.Redis, run_id: str = "run-x", reason: str = "max attempts") -> str:
    return r.xadd(StreamLayout(PREFIX).dlq, {"run_id": run_id, "task_id": "t1", "stream": "tasks", "entry_id": "1-0",
                                               "reason": reason, "attempts": "5", "worker": "w1",
                                               "last_error": "boom", "ts": str(time.time()), "m": "{}"}).decode()


def _control(r: redis.Redis) -> list:
    return [from_wire(fields[b"m"]) for _, fields in r.xrange(StreamLayout(PREFIX).control)]


def test_both_modes_serve_every_declared_route(api_system, ops) -> None:
    queued = set(routed_operations(create_app(api_system, ops=ops)))
    local = set(routed_operations(create_app(api_system)))
    assert queued == local == set(rbac.ROUTE_ROLES)


def test_route_by_role_matrix_of_the_runtime_routes(api_system, ops, client, keys, gate, r,
                                                    running_coordinator) -> None:
    app = create_app(api_system, ops=ops)
    active = start_run(client, keys, GATE_PROMPT)
    assert gate.entered.wait(20)
    values = {"run_id": active, "dlq_id": lambda: _dead_letter(r, run_id=failed_run(api_system))}
    bodies = {"/api/v1/runtime/runs/{run_id}/cancel": lambda: {"reason": "matrix"}}
    mismatches = []
    for template in ("/runtime/runs/{run_id}/cancel", "/runtime/runs/{run_id}/requeue"):
        run_id = active if template.endswith("cancel") else lambda: failed_run(api_system)
        mismatches += route_matrix(app, testing.TestClient(app), keys, {"run_id": run_id}, bodies, only=template)
    mismatches += route_matrix(app, testing.TestClient(app), keys, values, bodies, only="/runtime/dlq/{dlq_id}/")
    mismatches += route_matrix(app, testing.TestClient(app), keys, values, bodies, only="/runtime/dlq/{dlq_id}",
                               skip="requeue")
    mismatches += route_matrix(app, testing.TestClient(app), keys, values, bodies, only="/runtime/dlq", skip="{")
    for template in ("/runtime/queues", "/runtime/details", "/runtime/workers"):
        mismatches += route_matrix(app, testing.TestClient(app), keys, values, bodies, only=template)
    assert mismatches == []


def test_queues_workers_and_details(dclient, keys, r) -> None:
    headers = keys.headers("viewer")
    queues = dclient.simulate_get("/api/v1/runtime/queues", headers=headers).json
    assert {q["kind"] for q in queues} == {"stream", "dlq", "delayed"}
    details = dclient.simulate_get("/api/v1/runtime/details", headers=headers).json
    assert details["status"] == "degraded" and details["reasons"] == ["no worker is alive"]
    r.hset(StreamLayout(PREFIX).workers, "w1", json.dumps({
        "worker_id": "w1", "host": "h", "pid": 1, "started_at": utc_now(), "last_seen": utc_now(), "in_flight": 0,
        "concurrency": 4, "status": "running", "interval": 5}))
    workers = dclient.simulate_get("/api/v1/runtime/workers", headers=headers).json
    assert workers[0]["worker_id"] == "w1" and workers[0]["alive"] is True
    assert dclient.simulate_get("/api/v1/runtime/details", headers=headers).json["status"] == "healthy"
    _dead_letter(r)
    details = dclient.simulate_get("/api/v1/runtime/details", headers=headers).json
    assert details["reasons"] == ["1 dead-lettered tasks"] and details["dlq"][0]["last_error"] == "boom"


def test_dlq_requeue_waits_for_the_coordinator_and_is_audited(dclient, keys, r, api_system,
                                                               running_coordinator) -> None:
    run_id = failed_run(api_system)
    entry = _dead_letter(r, run_id=run_id)
    listed = dclient.simulate_get("/api/v1/runtime/dlq", headers=keys.headers("viewer")).json
    assert [e["id"] for e in listed] == [entry]
    result = dclient.simulate_post(f"/api/v1/runtime/dlq/{entry}/requeue", headers=keys.headers("operator"))
    assert result.status_code == 202, result.json
    assert result.json == {"run_id": run_id, "status": "requeued", "dlq_id": entry, "attempt": 2}
    message = _control(r)[-1]
    assert (message.run_id, message.dlq_id) == (run_id, entry)
    audit = dclient.simulate_get("/api/v1/audit", params={"action": "runtime.dlq.requeue"},
                                 headers=keys.headers("admin")).json["items"]
    assert audit[0]["target"] == entry
    assert dclient.simulate_post("/api/v1/runtime/dlq/0-1/requeue", headers=keys.headers("operator")).status_code == 404
    poison = _dead_letter(r, run_id="", reason="undecodable")
    assert dclient.simulate_post(f"/api/v1/runtime/dlq/{poison}/requeue",
                                 headers=keys.headers("operator")).status_code == 409


def test_a_requeue_the_coordinator_refuses_is_409_with_its_reason(dclient, keys, r, running_coordinator) -> None:
    entry = _dead_letter(r, run_id="never-stored")
    refused = dclient.simulate_post(f"/api/v1/runtime/dlq/{entry}/requeue", headers=keys.headers("operator"))
    assert refused.status_code == 409
    assert refused.json["description"] == "the coordinator refused: unknown run: never-stored"


def test_a_requeue_no_coordinator_answers_is_503(api_system, ops, keys, r) -> None:
    client = testing.TestClient(create_app(api_system, control=QueuedControl(api_system, ops, reply_wait=0.3)))
    entry = _dead_letter(r, run_id=failed_run(api_system))
    result = client.simulate_post(f"/api/v1/runtime/dlq/{entry}/requeue", headers=keys.headers("operator"))
    assert result.status_code == 503 and "no coordinator answered" in result.json["description"]


def test_dlq_entries_of_one_run_are_found_past_a_page_of_other_runs(dclient, keys, r, ops) -> None:
    mine = _dead_letter(r, run_id="wanted")
    for i in range(1100):
        r.xadd(StreamLayout(PREFIX).dlq, {"run_id": f"other-{i}", "reason": "max attempts", "ts": "0", "m": "{}"})
    found = dclient.simulate_get("/api/v1/runtime/dlq", params={"run_id": "wanted", "limit": "5"},
                                 headers=keys.headers("viewer"))
    assert found.status_code == 200 and [e["id"] for e in found.json] == [mine]
    assert ops.dlq_list(5, "nobody") == []
    empty = dclient.simulate_get("/api/v1/runtime/dlq", params={"run_id": ""}, headers=keys.headers("viewer"))
    assert empty.status_code == 422 and "run_id" in empty.json["errors"]


def test_a_dlq_entry_can_be_deleted(dclient, keys, r) -> None:
    entry = _dead_letter(r)
    deleted = dclient.simulate_delete(f"/api/v1/runtime/dlq/{entry}", headers=keys.headers("operator"))
    assert deleted.status_code == 200 and deleted.json == {"ok": True}
    assert r.xlen(StreamLayout(PREFIX).dlq) == 0 and _control(r) == []
    assert dclient.simulate_delete(f"/api/v1/runtime/dlq/{entry}", headers=keys.headers("operator")).status_code == 404
    audit = dclient.simulate_get("/api/v1/audit", params={"action": "runtime.dlq.delete"},
                                 headers=keys.headers("admin")).json["items"]
    assert audit[0]["target"] == entry and audit[0]["detail"]["run_id"] == "run-x"


def test_cancel_only_active_runs(dclient, client, keys, api_system, gate, r) -> None:
    active = start_run(client, keys, GATE_PROMPT)
    assert gate.entered.wait(20)
    result = dclient.simulate_post(f"/api/v1/runtime/runs/{active}/cancel", json={"reason": "stop"},
                                   headers=keys.headers("operator"))
    assert result.status_code == 202 and result.json["status"] == "cancelling"
    assert r.get(StreamLayout(PREFIX).cancel_key(active)) == b"stop"
    gate.set()
    done = finished_run(client, keys, api_system)
    assert dclient.simulate_post(f"/api/v1/runtime/runs/{done}/cancel",
                                 headers=keys.headers("operator")).status_code == 409
    unknown = dclient.simulate_post("/api/v1/runtime/runs/nope/cancel", headers=keys.headers("operator"))
    assert unknown.status_code == 404


def test_requeue_only_failed_or_cancelled_runs(dclient, client, keys, api_system, r, running_coordinator) -> None:
    run_id = failed_run(api_system)
    result = dclient.simulate_post(f"/api/v1/runtime/runs/{run_id}/requeue", headers=keys.headers("operator"))
    assert result.status_code == 202 and result.json["attempt"] == 2 and _control(r)[-1].run_id == run_id
    done = finished_run(client, keys, api_system)
    assert dclient.simulate_post(f"/api/v1/runtime/runs/{done}/requeue",
                                 headers=keys.headers("operator")).status_code == 409


def test_runs_are_enqueued_on_the_distributed_runtime(dclient, keys, r, api_system) -> None:
    result = dclient.simulate_post("/api/v1/runs", json={"input": "calculate 1 + 1", "session_id": "sess"},
                                   headers=keys.headers("operator"))
    assert result.status_code == 202 and result.json["status"] == "queued"
    (_, fields), = r.xrange(StreamLayout(PREFIX).admit)
    message = from_wire(fields[b"m"])
    assert (message.run_id, message.session_id) == (result.json["run_id"], "sess")
    chosen = dclient.simulate_post("/api/v1/runs", json={"input": "x", "run_id": "mine"},
                                   headers=keys.headers("operator"))
    assert chosen.status_code == 202 and chosen.json["run_id"] == "mine"
    assert from_wire(r.xrange(StreamLayout(PREFIX).admit)[-1][1][b"m"]).run_id == "mine"
    api_system.write([Event("taken", 1, "run.queued", utc_now(), "s", {"input": "x"})])
    taken = dclient.simulate_post("/api/v1/runs", json={"input": "x", "run_id": "taken"},
                                  headers=keys.headers("operator"))
    assert taken.status_code == 409 and taken.json["errors"] == {"run_id": ["a run with this id exists"]}


def test_readiness_checks_redis(dclient, api_system) -> None:
    ready = dclient.simulate_get("/readyz").json
    assert ready["checks"] == {"runtime": "ok", "store": "ok", "reads": "ok", "redis": "ok"}
    down = testing.TestClient(create_app(api_system, ops=RuntimeOps(api_system.config.replace(
        redis_url="redis://127.0.0.1:1/0"))))
    result = down.simulate_get("/readyz")
    assert result.status_code == 503 and result.json["checks"]["redis"].startswith("down")
    assert down.simulate_get("/api/v1/runtime/queues").status_code == 401


def test_redis_outage_is_503_not_500(api_system, keys) -> None:
    down = testing.TestClient(create_app(api_system, ops=RuntimeOps(api_system.config.replace(
        redis_url="redis://127.0.0.1:1/0"))))
    result = down.simulate_get("/api/v1/runtime/queues", headers=keys.headers("viewer"))
    assert result.status_code == 503 and result.json["title"] == "Store unavailable"


def test_the_dlq_can_be_purged_by_an_admin(dclient, keys, r) -> None:
    _dead_letter(r, run_id="a")
    _dead_letter(r, run_id="b")
    assert dclient.simulate_delete("/api/v1/runtime/dlq", headers=keys.headers("operator")).status_code == 403
    purged = dclient.simulate_delete("/api/v1/runtime/dlq", headers=keys.headers("admin"))
    assert purged.status_code == 200 and purged.json == {"purged": 2}
    assert r.xlen(StreamLayout(PREFIX).dlq) == 0
    audit = dclient.simulate_get("/api/v1/audit", params={"action": "runtime.dlq.purge"},
                                 headers=keys.headers("admin")).json
    assert audit["items"][0]["outcome"] == "ok"


def test_a_dlq_entry_is_read_with_its_payload_secrets_redacted(dclient, keys, r) -> None:
    secret = "ghp_" + "k9L0" * 9
    entry = r.xadd(StreamLayout(PREFIX).dlq, {"run_id": "run-p", "task_id": "t9", "stream": "tasks",
                                                "entry_id": "1-0", "reason": "max attempts", "attempts": "3",
                                                "worker": "w1", "last_error": "boom", "ts": str(time.time()),
                                                "m": f'{{"input": "deploy with {secret}"}}'}).decode()
    shown = dclient.simulate_get(f"/api/v1/runtime/dlq/{entry}", headers=keys.headers("viewer"))
    assert shown.status_code == 200 and shown.json["run_id"] == "run-p"
    assert shown.json["payload"] == '{"input": "deploy with [REDACTED:github_token]"}'
    assert dclient.simulate_get("/api/v1/runtime/dlq/0-1", headers=keys.headers("viewer")).status_code == 404


def test_an_eval_started_over_the_api_in_queued_mode_runs_its_cases_on_the_workers(
        dclient, keys, api_system, ops, running_coordinator) -> None:
    cases = [{"id": "math", "input": "What is 6 * 7?", "expected_output": "42", "required_tools": ["calculator"]},
             {"id": "greet", "input": "hello", "expected_output": "hello"}]
    with worker(ops.config.replace(tools="calculator"), "w-eval"):
        started = dclient.simulate_post("/api/v1/evals", json={"cases": cases, "timeout": 60},
                                        headers=keys.headers("operator"))
        assert started.status_code == 202, started.text
        eval_id = started.json["eval_id"]
        deadline = time.monotonic() + 90
        while (found := dclient.simulate_get(f"/api/v1/evals/{eval_id}", headers=keys.headers("viewer")).json)[
                "status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
    assert (found["status"], found["passed"]) == ("completed", 2), (found["error"], found["results"])
    for case in found["results"]:
        row = api_system.reader().get_run(case["run_id"])
        assert row.worker_id == "w-eval" and row.metadata["eval_id"] == eval_id
    assert found["results"][0]["tools"] == ["calculator"]
