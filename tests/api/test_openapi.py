"""The OpenAPI document: valid, generated from the routes, and matching the route snapshot."""

from __future__ import annotations

from pathlib import Path

from falcon import testing
from openapi_spec_validator import validate

from agentstage.api import create_app, rbac
from agentstage.api.openapi import openapi_path, routed_operations
from agentstage.runtime.distributed.ops import RuntimeOps

SNAPSHOT = Path(__file__).with_name("openapi_routes.txt")


def _document(client) -> dict:
    result = client.simulate_get("/api/v1/openapi.json")
    assert result.status_code == 200
    return result.json


def test_document_is_valid_openapi(client) -> None:
    validate(_document(client))


def test_document_lists_exactly_the_routed_operations_with_their_roles(app, client) -> None:
    document = _document(client)
    listed = sorted((method.upper(), path, op["x-min-role"])
                    for path, item in document["paths"].items()
                    for method, op in item.items() if method != "parameters")
    routed = sorted((method, openapi_path(template), rbac.required_role(method, template))
                    for method, template in routed_operations(app))
    assert listed == routed


def _lines(document: dict) -> set[str]:
    return {f"{method.upper()} {path} {op['x-min-role']}" for path, item in document["paths"].items()
            for method, op in item.items() if method != "parameters"}


def test_both_modes_document_the_same_routes_as_the_reviewed_snapshot(client, api_system) -> None:
    with RuntimeOps(api_system.config) as ops:
        queued = _document(testing.TestClient(create_app(api_system, ops=ops)))
    local = _document(client)
    assert local["paths"] == queued["paths"], "the API must serve the same routes in local and queued mode"
    assert sorted(_lines(local)) == SNAPSHOT.read_text().split("\n")[:-1], \
        "routes changed: review and update openapi_routes.txt"


def test_capabilities_say_which_mode_has_queues(client, api_system) -> None:
    with RuntimeOps(api_system.config) as ops:
        queued = _document(testing.TestClient(create_app(api_system, ops=ops)))["info"]["x-capabilities"]
    assert _document(client)["info"]["x-capabilities"] == {"mode": "local", "queues": False, "dlq": False}
    assert queued == {"mode": "queued", "queues": True, "dlq": True}


def test_distributed_document_is_valid_too(api_system) -> None:
    with RuntimeOps(api_system.config) as ops:
        validate(_document(testing.TestClient(create_app(api_system, ops=ops))))


def test_protected_operations_declare_security_and_auth_errors(client) -> None:
    for path, item in _document(client)["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            if op["x-min-role"] == rbac.PUBLIC:
                assert op["security"] == []
            else:
                assert {"401", "403"} <= set(op["responses"]), (method, path)


def test_query_parameters_come_from_the_schemas(client) -> None:
    runs = _document(client)["paths"]["/api/v1/runs"]["get"]
    names = {p["name"] for p in runs["parameters"]}
    assert {"status", "session_id", "workflow", "agent", "worker", "id_prefix", "q", "top_level", "parent_run_id", "since",
            "until", "limit", "cursor", "sort"} == names
