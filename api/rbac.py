"""Role-based access: one table from (method, route) to the minimum role, read at a glance.

A route that is not in the table is refused (403) to everyone, so a new route is closed until
someone decides who may call it. `PUBLIC` routes need no key.
"""

from __future__ import annotations

__all__ = ["PUBLIC", "ROLES", "ROUTE_ROLES", "allows", "required_role"]

ROLES = ("viewer", "operator", "admin")
PUBLIC = "public"
_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}

V1 = "/api/v1"

ROUTE_ROLES: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", f"{V1}/openapi.json"): PUBLIC,
    ("POST", f"{V1}/auth/login"): PUBLIC,
    ("GET", f"{V1}/auth/me"): "viewer",
    ("GET", f"{V1}/runs"): "viewer",
    ("GET", f"{V1}/runs/{{run_id}}"): "viewer",
    ("GET", f"{V1}/runs/{{run_id}}/events"): "viewer",
    ("GET", f"{V1}/runs/{{run_id}}/events/stream"): "viewer",
    ("GET", f"{V1}/runs/{{run_id}}/checkpoints"): "viewer",
    ("GET", f"{V1}/runs/{{run_id}}/checkpoints/{{step:int}}"): "viewer",
    ("GET", f"{V1}/sessions"): "viewer",
    ("GET", f"{V1}/sessions/{{session_id}}/runs"): "viewer",
    ("GET", f"{V1}/metrics/summary"): "viewer",
    ("GET", f"{V1}/metrics/timeseries"): "viewer",
    ("GET", f"{V1}/stream/events"): "viewer",
    ("GET", f"{V1}/runtime/workers"): "viewer",
    ("GET", f"{V1}/runtime/runs/{{run_id}}/attempts"): "viewer",
    ("GET", f"{V1}/tools/registry"): "viewer",
    ("GET", f"{V1}/tools/bundles"): "viewer",
    ("GET", f"{V1}/tools/catalog"): "viewer",
    ("GET", f"{V1}/tools/templates"): "viewer",
    ("GET", f"{V1}/tools/instances"): "viewer",
    ("GET", f"{V1}/guardrails"): "viewer",
    ("GET", f"{V1}/integrations/providers"): "viewer",
    ("GET", f"{V1}/integrations/credentials"): "viewer",
    ("GET", f"{V1}/workflows"): "viewer",
    ("GET", f"{V1}/workflows/{{name}}"): "viewer",
    ("GET", f"{V1}/workflows/registry"): "viewer",
    ("POST", f"{V1}/workflows/registry"): "operator",
    ("GET", f"{V1}/orchestrations/patterns"): "viewer",
    ("GET", f"{V1}/orchestrations"): "viewer",
    ("GET", f"{V1}/orchestrations/{{name}}"): "viewer",
    ("POST", f"{V1}/orchestrations"): "operator",
    ("DELETE", f"{V1}/orchestrations/{{name}}"): "operator",
    ("GET", f"{V1}/runtime/queues"): "viewer",
    ("GET", f"{V1}/runtime/dlq"): "viewer",
    ("GET", f"{V1}/runtime/dlq/{{dlq_id}}"): "viewer",
    ("GET", f"{V1}/runtime/details"): "viewer",
    ("GET", f"{V1}/evals"): "viewer",
    ("GET", f"{V1}/evals/compare"): "viewer",
    ("GET", f"{V1}/evals/{{eval_id}}"): "viewer",
    ("POST", f"{V1}/evals"): "operator",
    ("GET", f"{V1}/cron/jobs"): "viewer",
    ("GET", f"{V1}/cron/jobs/{{name}}"): "viewer",
    ("GET", f"{V1}/cron/jobs/{{name}}/history"): "viewer",
    ("GET", f"{V1}/cron/jobs/{{name}}/logs"): "viewer",
    ("POST", f"{V1}/cron/jobs"): "operator",
    ("PATCH", f"{V1}/cron/jobs/{{name}}"): "operator",
    ("DELETE", f"{V1}/cron/jobs/{{name}}"): "operator",
    ("POST", f"{V1}/cron/jobs/{{name}}/trigger"): "operator",
    ("GET", f"{V1}/flows"): "viewer",
    ("GET", f"{V1}/flows/{{name}}"): "viewer",
    ("POST", f"{V1}/flows"): "operator",
    ("DELETE", f"{V1}/flows/{{name}}"): "operator",
    ("POST", f"{V1}/flows/{{name}}/run"): "operator",
    ("POST", f"{V1}/playground/run"): "operator",
    ("POST", f"{V1}/playground/stream"): "operator",
    ("GET", f"{V1}/skills"): "viewer",
    ("GET", f"{V1}/skills/{{name}}"): "viewer",
    ("POST", f"{V1}/skills"): "operator",
    ("GET", f"{V1}/prompts"): "viewer",
    ("GET", f"{V1}/prompts/{{ref}}"): "viewer",
    ("POST", f"{V1}/prompts/render"): "viewer",
    ("POST", f"{V1}/prompts/validate"): "viewer",
    ("POST", f"{V1}/prompts"): "operator",
    ("DELETE", f"{V1}/prompts/{{ref}}"): "operator",
    ("GET", f"{V1}/collections"): "viewer",
    ("POST", f"{V1}/collections/{{name}}/search"): "viewer",
    ("POST", f"{V1}/collections/{{name}}/documents"): "operator",
    ("DELETE", f"{V1}/collections/{{name}}"): "operator",
    ("GET", f"{V1}/settings/provider-env"): "viewer",
    ("PUT", f"{V1}/settings/provider-env"): "operator",
    ("GET", f"{V1}/settings/provider-models"): "operator",
    ("GET", f"{V1}/files/view"): "operator",
    ("GET", f"{V1}/files/download"): "operator",
    ("POST", f"{V1}/runs"): "operator",
    ("POST", f"{V1}/events"): "operator",
    ("POST", f"{V1}/runs/{{run_id}}/resume"): "operator",
    ("POST", f"{V1}/runtime/runs/{{run_id}}/cancel"): "operator",
    ("POST", f"{V1}/runtime/runs/{{run_id}}/requeue"): "operator",
    ("POST", f"{V1}/runtime/dlq/{{dlq_id}}/requeue"): "operator",
    ("DELETE", f"{V1}/runtime/dlq/{{dlq_id}}"): "operator",
    ("POST", f"{V1}/runs/{{run_id}}/fork"): "operator",
    ("DELETE", f"{V1}/runtime/dlq"): "admin",
    ("GET", f"{V1}/auth/keys"): "admin",
    ("POST", f"{V1}/auth/keys"): "admin",
    ("DELETE", f"{V1}/auth/keys/{{key_id}}"): "admin",
    ("GET", f"{V1}/audit"): "admin",
    ("POST", f"{V1}/tools/instances"): "admin",
    ("PUT", f"{V1}/tools/instances/{{name}}"): "admin",
    ("DELETE", f"{V1}/tools/instances/{{name}}"): "admin",
    ("PUT", f"{V1}/workflows/{{name}}/tools/{{tool}}"): "admin",
    ("DELETE", f"{V1}/workflows/{{name}}/tools/{{tool}}"): "admin",
}


def required_role(method: str, template: str) -> str | None:
    """The minimum role for a route, `PUBLIC`, or None when the route is not declared."""
    return ROUTE_ROLES.get((method, template))


def allows(role: str, required: str) -> bool:
    """Whether `role` meets `required` (a role name or `PUBLIC`)."""
    return required == PUBLIC or _RANK.get(role, 0) >= _RANK[required]
