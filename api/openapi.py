"""The OpenAPI document, generated from the app's own routes, RBAC table and marshmallow schemas.

Paths and methods come from `falcon.inspect.inspect_routes(app)`, so the document cannot list
a route the app lacks or miss one it has; each responder's `Op` gives its schemas.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import falcon
import falcon.inspect
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from agentstage.api.rbac import PUBLIC, required_role
from agentstage.api.resources.base import Op, Resource
from agentstage.api.schemas.common import ErrorSchema

__all__ = ["build_openapi", "openapi_path", "routed_operations"]

_CONVERTER = re.compile(r"\{(\w+):(\w+)\}")
_SSE_EVENT = {
    "type": "object",
    "description": "one Server-Sent Event per durable event (`: ping` comments keep the stream open)",
    "properties": {
        "id": {"type": "string", "description": "the event's seq (run streams only)"},
        "event": {"type": "string", "description": "the event's type"},
        "data": {"type": "string", "description": "the Event as JSON (see the Event schema)"},
    },
}
_REASONS = {201: "Created", 202: "Accepted", 400: "Bad request", 401: "No valid API key", 403: "Role too low",
            404: "Not found", 405: "Method not allowed", 409: "Conflict", 413: "Body too large", 415: "Not JSON", 422: "Invalid fields",
            429: "Too many live streams", 500: "Server misconfigured",
            503: "Unavailable"}


def openapi_path(template: str) -> str:
    """A Falcon URI template as an OpenAPI path (`{step:int}` -> `{step}`)."""
    return _CONVERTER.sub(r"{\1}", template)


def routed_operations(app: falcon.App) -> list[tuple[str, str]]:
    """Every (method, URI template) the app serves with a responder of its own."""
    return sorted((m.method, route.path) for route in falcon.inspect.inspect_routes(app)
                  for m in route.methods if not m.internal)


def build_openapi(app: falcon.App, resources: dict[str, Resource],
                  capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.0 document of `app`; `resources` maps each URI template to its resource.

    `capabilities` (the run control's: mode, queues, dlq) go in `info.x-capabilities`, so a client
    knows which routes answer 409 here without asking each.
    """
    try:
        app_version = version("agentstage")
    except PackageNotFoundError:
        app_version = "0"
    spec = APISpec(
        title="agentstage API", version=app_version, openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
        info={"description": "Runs, sessions, events, checkpoints and runtime operations of agentstage. "
                             "Send an API key as `Authorization: Bearer <key>` or `X-API-Key`; "
                             "each operation's `x-min-role` is the least role that may call it.",
              "x-capabilities": dict(capabilities or {})},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("apiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
    spec.components.schema("Error", schema=ErrorSchema)
    operations: dict[str, dict[str, Any]] = {}
    for method, template in routed_operations(app):
        op = resources[template].OPS.get(method)
        if op is None:
            raise RuntimeError(f"{method} {template} has no Op description")
        operations.setdefault(template, {})[method.lower()] = _operation(method, template, op)
    for template, ops in operations.items():
        spec.path(path=openapi_path(template), operations=ops, parameters=_path_parameters(template))
    return spec.to_dict()


def _operation(method: str, template: str, op: Op) -> dict[str, Any]:
    role = required_role(method, template)
    if role is None:
        raise RuntimeError(f"{method} {template} is not in the RBAC table")
    if op.response is not None:
        schema: Any = {"type": "array", "items": op.response} if op.many else op.response
    elif op.media_type == "text/event-stream":
        schema = _SSE_EVENT
    else:
        schema = op.extra.get("schema", {"type": "object"})
    responses: dict[str, Any] = {
        str(op.status): {"description": _REASONS.get(op.status, "OK"), "content": {op.media_type: {"schema": schema}}},
    }
    errors = set(op.errors)
    if role != PUBLIC:
        errors |= {401, 403}
    if op.body is not None:
        errors |= {400, 413, 415, 422}
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        errors |= {415}
    for code in sorted(errors):
        responses[str(code)] = {"description": _REASONS[code],
                                "content": {"application/json": {"schema": "Error"}}}
    operation: dict[str, Any] = {
        "summary": op.summary, "tags": [op.tag], "responses": responses, "x-min-role": role,
        "operationId": method.lower() + "_" + re.sub(r"[^A-Za-z0-9]+", "_", openapi_path(template)).strip("_"),
        "security": [] if role == PUBLIC else [{"bearer": []}, {"apiKey": []}],
    }
    if op.description:
        operation["description"] = op.description
    if op.query is not None:
        operation["parameters"] = [{"in": "query", "schema": op.query}]
    if op.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
    return operation


def _path_parameters(template: str) -> list[dict[str, Any]]:
    parameters = []
    for name, converter in re.findall(r"\{(\w+)(?::(\w+))?\}", template):
        schema = {"type": "integer"} if converter == "int" else {"type": "string"}
        parameters.append({"in": "path", "name": name, "required": True, "schema": schema})
    return parameters
