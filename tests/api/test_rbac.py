"""The route x role matrix, driven by the app's own routes (`falcon.inspect.inspect_routes`)."""

from __future__ import annotations

import re

import pytest

from agentstage.api import rbac
from agentstage.api.auth import new_api_key
from agentstage.api.openapi import routed_operations
from agentstage.runtime.state import Checkpoint
from tests.api.helpers import LOGIN_TOKENS, finished_run

CALLERS = (None, "expired", "revoked", "viewer", "operator", "admin")


def _expected(required: str, caller: str | None) -> str:
    if required == rbac.PUBLIC:
        return "2xx"
    if caller in (None, "expired", "revoked"):
        return "401"
    return "2xx" if rbac.allows(caller, required) else "403"


def test_every_routed_operation_is_in_the_rbac_table_and_back(app) -> None:
    routed = set(routed_operations(app))
    assert routed == set(rbac.ROUTE_ROLES)


def test_route_by_role_matrix(app, client, keys, api_system) -> None:
    run_id = finished_run(client, keys, api_system)
    run = api_system.reader().get_run(run_id)
    api_system.write([Checkpoint(run_id, 1, "start", "end", {"n": 1}, run.created_at)])
    throwaway, _ = new_api_key("viewer", "to revoke")
    api_system.write([throwaway])
    values = {"run_id": run_id, "session_id": run.session_id, "step": "1", "key_id": throwaway.id}
    tokens = iter(LOGIN_TOKENS)
    bodies = {
        "/api/v1/runs": lambda: {"input": "calculate 1 + 1"},
        "/api/v1/events": lambda: {"run_id": run_id, "type": "test.note", "data": {"k": 1}},
        "/api/v1/auth/keys": lambda: {"role": "viewer", "name": "matrix"},
        "/api/v1/auth/login": lambda: {"token": next(tokens)},
    }
    mismatches = []
    for method, template in routed_operations(app):
        path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], template)
        query = "timeout=0.3" if template.endswith("stream") or template.endswith("stream/events") else None
        for caller in CALLERS:
            body = bodies[template]() if method == "POST" else None
            result = client.simulate_request(method, path, query_string=query, json=body, headers=keys.headers(caller))
            expected = _expected(rbac.required_role(method, template), caller)
            got = "2xx" if 200 <= result.status_code < 300 else str(result.status_code)
            if got != expected:
                mismatches.append(f"{method} {template} as {caller}: expected {expected}, got {result.status_code}")
    assert mismatches == []


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
