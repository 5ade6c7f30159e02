"""secret_redactor: finds and redacts secrets with 25 named patterns (most specific first); `redact` removes
known secret values (resolved credentials) from what a tool returns or raises."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from agentstage.runtime.errors import ToolError
from agentstage.runtime.secret_patterns import redact_secrets
from agentstage.runtime.tools._kit import obj
from agentstage.runtime.tools.registry import Tool

__all__ = ["SECRET_PATTERNS", "redact", "redact_secrets", "redaction_tools", "secret_forms"]

_MAX_TEXT = 1_000_000


def __getattr__(name: str) -> object:
    """`SECRET_PATTERNS`, re-exported from `runtime.secret_patterns`, which compiles them on first use."""
    if name == "SECRET_PATTERNS":
        from agentstage.runtime import secret_patterns

        return secret_patterns.SECRET_PATTERNS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def secret_forms(values: Iterable[str | None]) -> list[str]:
    """The texts a resolved secret may come back as: itself, URL-quoted, JSON-escaped and base64,
    longest first (so a longer form is replaced before a shorter one inside it)."""
    forms: set[str] = set()
    for value in values:
        if not value:
            continue
        encoded = base64.b64encode(value.encode()).decode()
        forms.update({value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1], encoded,
                      encoded.rstrip("=")})
    return sorted((f for f in forms if f), key=len, reverse=True)


def redact(value: Any, forms: list[str]) -> Any:
    """`value` (text, or JSON-like data: keys included) with every form of a secret replaced by [REDACTED]."""
    return _scrub(value, re.compile("|".join(map(re.escape, forms)))) if forms else value


def _scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub("[REDACTED]", value)
    if isinstance(value, dict):
        return {_scrub(k, pattern): _scrub(v, pattern) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, pattern) for v in value]
    return value


def _redactor(text: str) -> dict[str, Any]:
    if len(text) > _MAX_TEXT:
        raise ToolError("secret_redactor", f"text longer than {_MAX_TEXT} characters")
    return redact_secrets(text)


def redaction_tools() -> list[Tool]:
    """Fresh instances of the redaction tools."""
    return [Tool("secret_redactor", "Find and redact secrets (cloud keys, tokens, passwords, private keys, "
                 "connection strings, ...) in a text; returns the redacted text, a count and the types found.",
                 obj({"text": {"type": "string"}}, ("text",)), _redactor)]
