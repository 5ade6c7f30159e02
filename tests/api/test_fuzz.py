"""Property-based fuzz of the API from its own OpenAPI document (schemathesis): never a 5xx.

Each operation gets a bounded number of generated requests (valid and invalid), sent with an
admin key through the ASGI app, in process (distributed routes included, on the suite's redis-server);
responses must not be 5xx and must match their documented
schema and content type.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from agentstage.api import create_app
from agentstage.api.auth import new_api_key
from agentstage.api.openapi import openapi_path, routed_operations

EXAMPLES = 15
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def test_api_never_answers_5xx(api_system, ops) -> None:
    app = create_app(api_system, ops=ops)
    admin, secret = new_api_key("admin", "fuzz")
    api_system.write([admin])
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # schemathesis leaves out the document's own route
    assert {(op.method.upper(), op.path) for op in operations} == {
        (method, openapi_path(template)) for method, template in routed_operations(app)} - {
        ("GET", "/api/v1/openapi.json")}

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case) -> None:
            if case.path.endswith("/stream") or case.path.endswith("/stream/events"):
                case.query = {**(case.query or {}), "timeout": 0.2, "max_events": 3}
            if case.path.startswith(("/api/v1/playground/", "/api/v1/flows/")) and isinstance(case.body, dict):
                case.body = {**case.body, "timeout": 0.2}  # NOTE: no coordinator runs here; do not wait a run out
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()
