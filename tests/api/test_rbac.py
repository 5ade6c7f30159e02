"""The route x role matrix, driven by the app's own routes (`falcon.inspect.inspect_routes`)."""

from __future__ import annotations

import pytest

from agentstage.api import rbac
from agentstage.api.auth import new_api_key
from agentstage.api.openapi import routed_operations
from agentstage.runtime.flows import Flow
from agentstage.runtime.system.graph_runs import workflow_dir
from agentstage.runtime.prompts import PromptSpec
from agentstage.runtime.evals import EvalCase, run_eval
from agentstage.runtime.schedules import new_schedule
from agentstage.runtime.state import Checkpoint
from agentstage.runtime.workflow.orchestration_store import OrchestrationStore
from agentstage.runtime.workflow.orchestrations import parse_orchestration
from tests.api.helpers import (
    GATE_PROMPT,
    LOGIN_TOKENS,
    failed_run,
    finished_run,
    route_matrix,
    start_run,
    waiting_graph_run,
)


def test_every_routed_operation_is_declared_in_the_rbac_table(app) -> None:
    assert set(routed_operations(app)) <= set(rbac.ROUTE_ROLES)


def test_route_by_role_matrix(app, client, keys, api_system, gate) -> None:
    run_id = finished_run(client, keys, api_system)
    run = api_system.reader().get_run(run_id)
    api_system.write([Checkpoint(run_id, 1, "start", "end", {"n": 1}, run.created_at)])
    throwaway, _ = new_api_key("viewer", "to revoke")
    api_system.write([throwaway])
    eval_id = run_eval(api_system, [EvalCase("c", "hello", 1)]).eval_id
    values = {"run_id": run_id, "session_id": run.session_id, "step": "1", "key_id": throwaway.id, "name": "review",
              "tool": "text_stats", "eval_id": eval_id}
    catalog = api_system.catalog
    catalog.bind("review", "text_stats")
    hooks = (f"hook{n}" for n in range(100))
    hook = {"template": "http_webhook", "config": {"url": "http://127.0.0.1:9/"}}

    def fresh_instance() -> str:
        return catalog.create_instance({**hook, "name": next(hooks)})["name"]

    values["/api/v1/tools/instances/{name}:name"] = fresh_instance
    schedules = (f"sched{n}" for n in range(100))

    def fresh_schedule() -> str:
        name = next(schedules)
        api_system.write([new_schedule(name, every_s=3600.0, input="hello")])
        return name

    for template in ("/api/v1/cron/jobs/{name}", "/api/v1/cron/jobs/{name}/trigger",
                     "/api/v1/cron/jobs/{name}/history", "/api/v1/cron/jobs/{name}/logs"):
        values[f"{template}:name"] = fresh_schedule
    documents = api_system.tool_context.documents
    collections = (f"docs{n}" for n in range(100))

    def fresh_collection() -> str:
        name = next(collections)
        documents.store().add(name, "a.md", "agents run as actors", documents.embedder())
        return name

    values["/api/v1/collections/{name}:name"] = fresh_collection
    versions = (f"v{n}" for n in range(1, 100))

    def fresh_prompt() -> str:
        return api_system.prompts.upsert(PromptSpec("matrix", next(versions), "for {{who}}")).ref

    values["/api/v1/prompts/{ref}:ref"] = fresh_prompt
    values["/api/v1/skills/{name}:name"] = "code-audit"
    flows = (f"flow{n}" for n in range(100))

    def fresh_flow() -> str:
        return api_system.flows.upsert(Flow(next(flows), system_prompt="be brief"), persist=True).name

    values["/api/v1/flows/{name}:name"] = fresh_flow
    values["/api/v1/flows/{name}/run:name"] = "general-assistant"
    orchestrations = (f"orch{n}" for n in range(100))
    store = OrchestrationStore(workflow_dir(api_system.config), api_system.workflows)

    def fresh_orchestration() -> str:
        return store.add(parse_orchestration({"name": next(orchestrations), "pattern": "sequential",
                                              "agents": ["default"]})).name

    values["/api/v1/orchestrations/{name}:name"] = fresh_orchestration
    values["/api/v1/collections/{name}/search:name"] = fresh_collection()
    values["/api/v1/collections/{name}/documents:name"] = "matrix-docs"
    tokens = iter(LOGIN_TOKENS)
    bodies = {
        "/api/v1/runs": lambda: {"input": "calculate 1 + 1"},
        "/api/v1/events": lambda: {"run_id": run_id, "type": "test.note", "data": {"k": 1}},
        "/api/v1/auth/keys": lambda: {"role": "viewer", "name": "matrix"},
        "/api/v1/auth/login": lambda: {"token": next(tokens)},
        "/api/v1/tools/instances": lambda: {**hook, "name": next(hooks)},
        "/api/v1/tools/instances/{name}": lambda: hook,
        "/api/v1/evals": lambda: {"cases": [{"input": "hello"}], "workers": 1},
        "/api/v1/cron/jobs": lambda: {"name": next(schedules), "intervalSeconds": 60},
        "/api/v1/cron/jobs/{name}": lambda: {"enabled": False},
        "/api/v1/collections/{name}/documents": lambda: {"documents": [{"source": "b.md", "text": "hello"}]},
        "/api/v1/collections/{name}/search": lambda: {"query": "actors"},
        "/api/v1/prompts": lambda: {"name": "posted", "version": next(versions), "system": "hi {{who}}"},
        "/api/v1/flows": lambda: {"name": next(flows), "systemPrompt": "be brief"},
        "/api/v1/orchestrations": lambda: {"name": next(orchestrations), "pattern": "parallel",
                                           "agents": ["default", "secops"], "aggregator": "default"},
        "/api/v1/flows/{name}/run": lambda: {"input": "hello"},
        "/api/v1/playground/run": lambda: {"input": "hello"},
        "/api/v1/playground/stream": lambda: {"input": "hello"},
        "/api/v1/prompts/render": lambda: {"ref": "sre", "input": {"service": "api"}},
        "/api/v1/prompts/validate": lambda: {"spec": {"name": "checked", "system": "hi"}},
        "/api/v1/workflows/registry": lambda: {"name": next(schedules), "spec": {
            "start": "a", "nodes": [{"id": "a", "kind": "noop"}]}},
    }
    api_system.tool_context.sandbox.mkdir(parents=True, exist_ok=True)
    (api_system.tool_context.sandbox / "matrix.txt").write_text("matrix")
    files = {"/api/v1/files/view": "path=matrix.txt", "/api/v1/files/download": "path=matrix.txt"}
    mismatches = route_matrix(app, client, keys, values, bodies,
                              skip=("/resume", "/fork", "/cancel", "/requeue", "/runtime/dlq", "/queues", "/details"),
                              queries={"/api/v1/evals/compare": f"base={eval_id}&head={eval_id}", **files},
                              answers={"PUT /api/v1/settings/provider-env": "405", "POST /api/v1/skills": "405"})
    for template in ("/runtime/dlq", "/runtime/queues", "/runtime/details"):
        mismatches += route_matrix(app, client, keys, {"dlq_id": "1-0"}, bodies, only=template, allowed="409")
    bodies["/api/v1/runtime/runs/{run_id}/cancel"] = lambda: {"reason": "matrix"}
    mismatches += route_matrix(app, client, keys, {"run_id": lambda: start_run(client, keys, GATE_PROMPT)},
                               bodies, only="/cancel")
    mismatches += route_matrix(app, client, keys, {"run_id": lambda: failed_run(api_system)}, bodies,
                               only="/requeue", skip="/dlq")
    values["run_id"] = lambda: waiting_graph_run(client, keys, api_system)
    bodies["/api/v1/runs/{run_id}/resume"] = lambda: {"input": "yes"}
    bodies["/api/v1/runs/{run_id}/fork"] = lambda: {"step": 0}
    mismatches += route_matrix(app, client, keys, values, bodies, only="/resume")
    assert mismatches + route_matrix(app, client, keys, values, bodies, only="/fork") == []


def test_an_undeclared_route_is_forbidden_even_to_admins(app, client, keys, monkeypatch) -> None:
    monkeypatch.delitem(rbac.ROUTE_ROLES, ("GET", "/api/v1/runs"))
    result = client.simulate_get("/api/v1/runs", headers=keys.headers("admin"))
    assert result.status_code == 403
    assert result.json["description"] == "this route is not open to any role"


@pytest.mark.parametrize(("role", "required", "allowed"), [
    ("viewer", "viewer", True), ("viewer", "operator", False), ("operator", "admin", False),
    ("admin", "operator", True), ("nobody", "viewer", False), ("viewer", rbac.PUBLIC, True),
])
def test_roles_are_ranked(role: str, required: str, allowed: bool) -> None:
    assert rbac.allows(role, required) is allowed
