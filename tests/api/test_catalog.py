"""Tools and integrations over HTTP: listings, tool instances, workflow bindings, credential references."""

from __future__ import annotations

import json

from tests.api.helpers import wait_for

HOOK = {"name": "deploy_hook", "template": "http_webhook", "config": {"url": "http://127.0.0.1:9/hook"},
        "credentials": {"token": "env:DEPLOY_HOOK_TOKEN"}, "description": "tell CI"}


def test_listings(client, keys) -> None:
    headers = keys.headers("viewer")
    registry = {t["name"]: t for t in client.simulate_get("/api/v1/tools/registry", headers=headers).json}
    assert registry["calculator"]["kind"] == "builtin" and "gate" in registry
    bundles = client.simulate_get("/api/v1/tools/bundles", headers=headers).json
    assert bundles and all(b["tools"] for b in bundles)
    providers = {p["name"] for p in client.simulate_get("/api/v1/integrations/providers", headers=headers).json}
    templates = client.simulate_get("/api/v1/tools/templates", headers=headers).json
    assert "http_webhook" in providers and {t["name"] for t in templates} == providers
    assert all("type" in t["parameters"] for t in templates)


def test_guardrail_catalog_in_the_shape_of_the_reference_devui(client, keys) -> None:
    body = client.simulate_get("/api/v1/guardrails", headers=keys.headers("viewer")).json
    assert body["count"] == len(body["guardrails"]) == 8
    pii = next(g for g in body["guardrails"] if g["name"] == "pii_filter")
    assert (pii["direction"], pii["defaultAction"], pii["configurable"]) == ("both", "redact", False)


def test_admin_manages_tool_instances_with_credential_references(client, keys, api_system) -> None:
    admin = keys.headers("admin")
    created = client.simulate_post("/api/v1/tools/instances", json=HOOK, headers=admin)
    assert created.status_code == 201 and created.json["credentials"] == {"token": "env:DEPLOY_HOOK_TOKEN"}
    registry = client.simulate_get("/api/v1/tools/registry", headers=keys.headers("viewer")).json
    assert {"deploy_hook": "instance"}.items() <= {t["name"]: t["kind"] for t in registry}.items()
    refs = client.simulate_get("/api/v1/integrations/credentials", headers=keys.headers("viewer")).json
    assert refs == [{"tool": "deploy_hook", "provider": "http_webhook", "field": "token",
                     "secret_ref": "env:DEPLOY_HOOK_TOKEN", "resolvable": False}]
    assert client.simulate_post("/api/v1/tools/instances", json=HOOK, headers=admin).status_code == 409
    body = {k: v for k, v in HOOK.items() if k != "name"}
    updated = client.simulate_put("/api/v1/tools/instances/deploy_hook", json={**body, "enabled": False},
                                  headers=admin)
    assert updated.status_code == 200 and updated.json["enabled"] is False
    assert client.simulate_delete("/api/v1/tools/instances/deploy_hook", headers=admin).json == {"ok": True}
    assert client.simulate_delete("/api/v1/tools/instances/deploy_hook", headers=admin).status_code == 404
    audit = client.simulate_get("/api/v1/audit", params={"outcome": "ok"}, headers=admin).json["items"]
    assert [e["action"] for e in audit[:3]] == ["tool.instance.delete", "tool.instance.update", "tool.instance.create"]
    rejected = wait_for(lambda: client.simulate_get("/api/v1/audit", params={"outcome": "rejected"},
                                                    headers=admin).json["items"])
    assert {e["detail"]["status"] for e in rejected} <= {404, 409}


def test_instance_definitions_are_validated_by_field(client, keys) -> None:
    admin = keys.headers("admin")
    no_url = client.simulate_post("/api/v1/tools/instances", json={**HOOK, "config": {}}, headers=admin)
    assert no_url.status_code == 422 and "config.url" in no_url.json["errors"]
    secret_value = client.simulate_post("/api/v1/tools/instances", json={**HOOK, "credentials": {"token": "hunter2"}},
                                        headers=admin)
    assert secret_value.status_code == 422 and "credentials.token" in secret_value.json["errors"]
    assert "hunter2" not in json.dumps(client.simulate_get("/api/v1/audit", headers=admin).json)
    shadow = client.simulate_post("/api/v1/tools/instances", json={**HOOK, "name": "calculator"}, headers=admin)
    assert shadow.status_code == 409
    operator = client.simulate_post("/api/v1/tools/instances", json=HOOK, headers=keys.headers("operator"))
    assert operator.status_code == 403


def test_workflow_tool_bindings(client, keys) -> None:
    admin = keys.headers("admin")
    bound = client.simulate_put("/api/v1/workflows/review/tools/text_stats", headers=admin)
    assert bound.status_code == 200 and bound.json == {"workflow": "review", "tools": ["text_stats"]}
    unknown = client.simulate_put("/api/v1/workflows/review/tools/no_such_tool", headers=admin)
    assert unknown.status_code == 422 and "tool" in unknown.json["errors"]
    assert client.simulate_delete("/api/v1/workflows/review/tools/text_stats", headers=admin).json == {"ok": True}
    assert client.simulate_delete("/api/v1/workflows/review/tools/text_stats", headers=admin).status_code == 404
    rows = wait_for(lambda: client.simulate_get("/api/v1/audit", params={"action": "workflow.tool.bind"},
                                                headers=admin).json["items"])
    assert rows[0]["target"] == "review/text_stats"


def test_the_catalog_has_the_reference_devui_shape(client, keys) -> None:
    body = client.simulate_get("/api/v1/tools/catalog", headers=keys.headers("viewer")).json
    assert set(body) == {"bundles", "tools"}
    tools = {t["name"]: t for t in body["tools"]}
    assert {"calculator", "gate"} <= set(tools) and set(tools["calculator"]) == {"name", "description"}
    bundles = {b["name"]: b for b in body["bundles"]}
    assert bundles and all(name.startswith("@") and b["tools"] for name, b in bundles.items())
    registry = {b["name"] for b in client.simulate_get("/api/v1/tools/bundles", headers=keys.headers("viewer")).json}
    assert set(bundles) == {f"@{name}" for name in registry}
    assert all(set(b) == {"name", "description", "tools"} for b in body["bundles"])
