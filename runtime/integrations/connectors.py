"""Connectors: what a tool instance of each integration provider does when it is called.

Secrets are resolved from credential references inside the call and live only in its locals;
every error names the reference, never the value, and every resolved secret (and its encoded
forms) is redacted from what the call returns or raises, so an endpoint that echoes its
credential cannot put it in run output, events or the effect journal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentstage.runtime.errors import ToolError
from agentstage.runtime.integrations.credentials import CredentialError, CredentialResolver
from agentstage.runtime.integrations.instances import ToolInstance
from agentstage.runtime.integrations.providers import PROVIDERS
from agentstage.runtime.tools._kit import obj, unavailable_tool
from agentstage.runtime.tools.network import tls_context
from agentstage.runtime.tools.redaction import redact, secret_forms
from agentstage.runtime.tools.registry import Tool

__all__ = ["connector_tool"]

_BLOCKED_REDIS = {"FLUSHALL", "FLUSHDB", "CONFIG", "SHUTDOWN", "DEBUG", "SLAVEOF", "REPLICAOF", "MODULE", "SCRIPT",
                  "EVAL", "EVALSHA", "FUNCTION", "ACL", "MIGRATE", "KEYS"}
_S = {"type": "string"}


class _Call:
    """What one connector call may use: the instance's config and its secrets, resolved on demand."""

    def __init__(self, instance: ToolInstance, resolver: CredentialResolver, timeout: float) -> None:
        self.instance = instance
        self.resolver = resolver
        self.timeout = timeout
        self.secrets: list[str] = []
        """Values resolved in this call (and credential pairs as sent), redacted from its result."""

    def config(self, key: str, default: Any = None) -> Any:
        value = self.instance.config.get(key, default)
        if value in (None, ""):
            raise ToolError(self.instance.name, f"instance {self.instance.name!r} has no {key!r} configured")
        return value

    def secret(self, field: str, optional: bool = False) -> str | None:
        ref = self.instance.credentials.get(field)
        if ref is None:
            if optional:
                return None
            raise ToolError(self.instance.name, f"instance {self.instance.name!r} has no credential {field!r}")
        try:
            value = self.resolver.resolve(ref)
        except CredentialError as exc:
            raise ToolError(self.instance.name, f"missing credential: {exc}") from None
        self.secrets.append(value)
        return value

    def http(self, method: str, url: str, *, json: Any = None, headers: dict[str, str] | None = None,
             auth: tuple[str, str] | None = None) -> dict[str, Any]:
        import httpx

        if auth is not None:
            self.secrets.append(f"{auth[0]}:{auth[1]}")
        try:
            with httpx.Client(timeout=self.timeout, trust_env=False, verify=tls_context()) as client:
                response = client.request(method, url, json=json, headers=headers, auth=auth)
        except httpx.HTTPError as exc:
            raise ToolError(self.instance.name, f"{method} {httpx.URL(url).host} failed: {type(exc).__name__}") from None
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:20000]
        result = {"status": response.status_code, "body": body}
        if response.status_code >= 400:
            raise ToolError(self.instance.name, f"{self.instance.provider} answered HTTP {response.status_code}: "
                                                f"{str(body)[:500]}")
        return result


def _webhook(call: _Call, payload: Any = None, method: str = "POST") -> dict[str, Any]:
    token = call.secret("token", optional=True)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return call.http(method, call.config("url"), json=payload, headers=headers)


def _slack(call: _Call, text: str, channel: str = "") -> dict[str, Any]:
    return call.http("POST", call.secret("webhook_url") or "", json={"text": text, **({"channel": channel} if channel else {})})


def _github(call: _Call, operation: str, title: str = "", body: str = "", number: int = 0) -> dict[str, Any]:
    base = str(call.config("api_url", "https://api.github.com")).rstrip("/")
    repository = call.config("repository")
    headers = {"Authorization": f"Bearer {call.secret('token')}", "Accept": "application/vnd.github+json"}
    if operation == "issue_create":
        if not title:
            raise ToolError(call.instance.name, "issue_create needs a title")
        return call.http("POST", f"{base}/repos/{repository}/issues", json={"title": title, "body": body},
                         headers=headers)
    if not number:
        raise ToolError(call.instance.name, "pr_comment needs the pull request number")
    return call.http("POST", f"{base}/repos/{repository}/issues/{number}/comments", json={"body": body},
                     headers=headers)


def _jira(call: _Call, operation: str, summary: str = "", description: str = "", issue_type: str = "Task",
          key: str = "", fields: dict[str, Any] | None = None) -> dict[str, Any]:
    base = str(call.config("base_url")).rstrip("/")
    auth = (call.secret("email") or "", call.secret("api_token") or "")
    if operation == "issue_create":
        if not summary:
            raise ToolError(call.instance.name, "issue_create needs a summary")
        return call.http("POST", f"{base}/rest/api/2/issue", auth=auth, json={"fields": {
            "project": {"key": call.config("project")}, "summary": summary, "description": description,
            "issuetype": {"name": issue_type}}})
    if not key or not fields:
        raise ToolError(call.instance.name, "issue_update needs an issue key and fields")
    return call.http("PUT", f"{base}/rest/api/2/issue/{key}", auth=auth, json={"fields": fields})


def _pagerduty(call: _Call, summary: str, severity: str = "error", source: str = "agentstage") -> dict[str, Any]:
    url = call.config("events_url", "https://events.pagerduty.com/v2/enqueue")
    return call.http("POST", url, json={"routing_key": call.secret("routing_key"), "event_action": "trigger",
                                        "payload": {"summary": summary, "severity": severity, "source": source}})


def _redis(call: _Call, args: list[str]) -> dict[str, Any]:
    import redis

    if not args or str(args[0]).upper() in _BLOCKED_REDIS:
        raise ToolError(call.instance.name, f"redis command {args[0] if args else '(none)'!r} is not allowed")
    try:
        client = redis.Redis.from_url(call.secret("url") or "", socket_timeout=call.timeout, decode_responses=True)
        with client:
            return {"result": client.execute_command(*args)}
    except redis.RedisError as exc:
        raise ToolError(call.instance.name, f"redis {args[0]} failed: {type(exc).__name__}: {exc}") from None


def _smtp(call: _Call, to: list[str], subject: str, body: str) -> dict[str, Any]:
    import smtplib
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = call.config("sender"), ", ".join(to), subject
    message.set_content(body)
    try:
        with smtplib.SMTP(call.config("host"), int(call.config("port", 587)), timeout=call.timeout) as server:
            if call.instance.config.get("starttls", True):
                server.starttls()
            server.login(call.config("username"), call.secret("password") or "")
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise ToolError(call.instance.name, f"smtp send failed: {type(exc).__name__}") from None
    return {"sent": True, "to": to}


_CONNECTORS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "http_webhook": (_webhook, obj({"payload": {}, "method": {"type": "string", "enum": ["POST", "PUT", "PATCH"]}})),
    "slack": (_slack, obj({"text": {"type": "string", "minLength": 1}, "channel": _S}, ("text",))),
    "github": (_github, obj({"operation": {"type": "string", "enum": ["issue_create", "pr_comment"]}, "title": _S,
                             "body": _S, "number": {"type": "integer", "minimum": 1}}, ("operation",))),
    "jira": (_jira, obj({"operation": {"type": "string", "enum": ["issue_create", "issue_update"]}, "summary": _S,
                         "description": _S, "issue_type": _S, "key": _S, "fields": {"type": "object"}},
                        ("operation",))),
    "pagerduty": (_pagerduty, obj({"summary": {"type": "string", "minLength": 1}, "source": _S, "severity": {
        "type": "string", "enum": ["critical", "error", "warning", "info"]}}, ("summary",))),
    "redis": (_redis, obj({"args": {"type": "array", "items": {"type": ["string", "number"]}, "minItems": 1}},
                          ("args",))),
    "smtp": (_smtp, obj({"to": {"type": "array", "items": _S, "minItems": 1}, "subject": _S, "body": _S},
                        ("to", "subject", "body"))),
}
_UNAVAILABLE_SCHEMAS = {
    "postgresql": obj({"sql": _S, "params": {"type": "array"}}, ("sql",)),
    "s3": obj({"operation": {"type": "string", "enum": ["object_read", "object_write"]}, "key": _S, "body": _S},
              ("operation", "key")),
    "gcs": obj({"operation": {"type": "string", "enum": ["object_read", "object_write"]}, "key": _S, "body": _S},
               ("operation", "key")),
}


def connector_tool(instance: ToolInstance, resolver: CredentialResolver, timeout: float = 30.0) -> Tool:
    """The tool an instance provides; credentials are resolved only when it is called."""
    provider = PROVIDERS[instance.provider]
    description = instance.description or f"{provider.display_name}: {', '.join(provider.capabilities)}"
    if instance.provider not in _CONNECTORS:
        return unavailable_tool(instance.name, description, _UNAVAILABLE_SCHEMAS[instance.provider],
                                provider.unavailable_reason)
    function, schema = _CONNECTORS[instance.provider]

    def run(**arguments: Any) -> Any:
        if not instance.enabled:
            raise ToolError(instance.name, f"tool instance {instance.name!r} is disabled")
        call = _Call(instance, resolver, timeout)
        try:
            result = function(call, **arguments)
        except ToolError as exc:
            raise ToolError(instance.name, redact(exc.message, secret_forms(call.secrets))) from None
        except Exception as exc:  # NOTE: a client library's message may quote the secret (a URL with a password)
            raise ToolError(instance.name, redact(f"{type(exc).__name__}: {exc}", secret_forms(call.secrets))) from None
        return redact(result, secret_forms(call.secrets))

    return Tool(instance.name, description, schema, run, side_effects=True)
