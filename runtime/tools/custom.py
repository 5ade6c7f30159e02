"""Runtime custom HTTP tools: a JSON spec becomes a tool that calls one fixed URL.

GET arguments go in the query string, other methods send them as the JSON body. A status of
400 or more is a tool error carrying the response. Header values may be credential references
(`secret_headers`), resolved only when the tool is called.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agentstage.runtime.errors import AgentstageError, ToolError
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.network import fetch
from agentstage.runtime.tools.redaction import redact, redact_secrets, secret_forms
from agentstage.runtime.tools.registry import Tool

__all__ = ["DefinitionError", "HttpToolSpec", "http_tool", "load_spec_dir"]

NAME_RULE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{2,63}$")
_SENSITIVE_HEADER = re.compile(r"(?i)^(?:authorization|proxy-authorization|cookie|x-api-key|api-key)$|secret|token|passw")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_DEFAULT_SCHEMA = {"type": "object", "additionalProperties": True}


class DefinitionError(AgentstageError):
    """A tool, instance or binding definition is invalid; `field` names the offending field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class HttpToolSpec:
    """A custom HTTP tool as defined by an admin (JSON field names in camelCase like the reference)."""

    name: str
    url: str
    description: str = "Runtime custom HTTP tool"
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    secret_headers: dict[str, str] = field(default_factory=dict)
    timeout_ms: int = 20000
    json_schema: dict[str, Any] = field(default_factory=lambda: dict(_DEFAULT_SCHEMA))

    @classmethod
    def from_dict(cls, raw: Any, *, check_ref: Callable[[str], None] | None = None) -> HttpToolSpec:
        """Validate a JSON spec; raises DefinitionError naming the field. `timeoutMs` is clamped to 1..120 s."""
        if not isinstance(raw, Mapping):
            raise DefinitionError("(root)", "a tool spec is a JSON object")
        known = {"name", "url", "description", "method", "headers", "secretHeaders", "timeoutMs", "jsonSchema"}
        extra = sorted(set(raw) - known)
        if extra:
            raise DefinitionError(extra[0], "unknown field")
        name = raw.get("name")
        if not isinstance(name, str) or not NAME_RULE.match(name):
            raise DefinitionError("name", "a letter then 2-63 letters, digits, '_' or '-'")
        url = raw.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise DefinitionError("url", "an absolute http(s) URL with a host")
        method = str(raw.get("method") or "POST").upper()
        if method not in _METHODS:
            raise DefinitionError("method", f"one of {', '.join(_METHODS)}")
        headers, secret_headers = raw.get("headers") or {}, raw.get("secretHeaders") or {}
        for key, value in (("headers", headers), ("secretHeaders", secret_headers)):
            if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                         for k, v in value.items()):
                raise DefinitionError(key, "an object of string values")
        for header, value in headers.items():
            if _SENSITIVE_HEADER.search(header) or redact_secrets(value)["redaction_count"]:
                raise DefinitionError(f"headers.{header}", "looks like a secret: put a credential reference in "
                                                           "secretHeaders instead")
        for header, ref in secret_headers.items():
            if check_ref is not None:
                try:
                    check_ref(ref)
                except AgentstageError as exc:
                    raise DefinitionError(f"secretHeaders.{header}", str(exc)) from None
        timeout = raw.get("timeoutMs", 20000)
        if not isinstance(timeout, int) or isinstance(timeout, bool):
            raise DefinitionError("timeoutMs", "an integer number of milliseconds")
        schema = raw.get("jsonSchema") or dict(_DEFAULT_SCHEMA)
        import jsonschema

        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise DefinitionError("jsonSchema", exc.message) from None
        if not isinstance(schema, Mapping) or schema.get("type") != "object":
            raise DefinitionError("jsonSchema", "must describe an object (type: object)")
        description = raw.get("description") or "Runtime custom HTTP tool"
        if not isinstance(description, str):
            raise DefinitionError("description", "a string")
        return cls(name, url, description, method, dict(headers), dict(secret_headers),
                   min(max(timeout, 1000), 120000), dict(schema))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (`from_dict` reads it back); credential references only, never secrets."""
        return {"name": self.name, "url": self.url, "description": self.description, "method": self.method,
                "headers": self.headers, "secretHeaders": self.secret_headers, "timeoutMs": self.timeout_ms,
                "jsonSchema": self.json_schema}


def http_tool(spec: HttpToolSpec, context: ToolContext, resolve: Callable[[str], str] | None = None) -> Tool:
    """The tool for `spec`; `resolve` turns a credential reference into its value at call time."""

    def call(**arguments: Any) -> dict[str, Any]:
        headers = dict(spec.headers)
        for header, ref in spec.secret_headers.items():
            if resolve is None:
                raise ToolError(spec.name, f"no credential resolver for header {header}")
            headers[header] = resolve(ref)
        secrets = [headers[h] for h in spec.secret_headers]
        # NOTE: a header value such as "Bearer <token>" may come back as the token alone
        secrets += [v.split(None, 1)[1] for v in secrets if " " in v.strip()]
        forms = secret_forms(secrets)
        try:
            return redact(send(headers, arguments), forms)
        except ToolError as exc:
            raise ToolError(spec.name, redact(exc.message, forms)) from None

    def send(headers: dict[str, str], arguments: dict[str, Any]) -> dict[str, Any]:
        url, body = spec.url, None
        if spec.method == "GET":
            import httpx

            params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in arguments.items()}
            url = str(httpx.URL(spec.url).copy_merge_params(params))
        else:
            body = arguments
        result = fetch(context, spec.name, spec.method, url, headers=headers, body=body,
                       timeout=spec.timeout_ms / 1000, follow=False, check=False)
        result.pop("url", None)
        result.pop("elapsed_ms", None)
        if result["status"] >= 400:
            raise ToolError(spec.name, f"HTTP {result['status']}: {json.dumps(result, default=str)[:4000]}")
        return result

    return Tool(spec.name, spec.description, spec.json_schema, call, side_effects=spec.method != "GET")


def load_spec_dir(directory: str | Path) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Raw specs from `<directory>/*.json` and (file, reason) for files that are not JSON objects."""
    specs, rejects = [], []
    path = Path(directory)
    for file in sorted(path.glob("*.json")) if path.is_dir() else []:
        try:
            raw = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            rejects.append((file.name, f"not JSON: {exc}"))
            continue
        if isinstance(raw, dict):
            specs.append(raw)
        else:
            rejects.append((file.name, "not a JSON object"))
    return specs, rejects
