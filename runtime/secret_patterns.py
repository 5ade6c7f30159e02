"""The named secret patterns (most specific first) and `redact_secrets`, shared by the redaction tools,
custom HTTP tools, integrations and the secret_guard guardrail; no imports beyond the standard library."""

from __future__ import annotations

import functools
import re
from typing import Any

__all__ = ["SECRET_PATTERNS", "redact_secrets"]

_KV = r"\s*[:=]\s*['\"]?(?!\[REDACTED)"
# A pattern's `k` group is kept (the key of a key=value pair), the rest becomes [REDACTED:<name>].
_SOURCES: tuple[tuple[str, str], ...] = (
    ("private_key", r"-----BEGIN (?:[A-Z ]+ )?PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z ]+ )?PRIVATE KEY-----"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
    ("aws_access_key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("aws_secret_key", r"(?i)(?P<k>aws_?secret_?(?:access_?)?key" + _KV + r")[A-Za-z0-9/+=]{40}"),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
    ("slack_token", r"\bxox[baprs]-[A-Za-z0-9-]{10,}"),
    ("anthropic_api_key", r"\bsk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_\-]{20,}"),
    ("openai_api_key", r"\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}|[A-Za-z0-9]{32,})"),
    ("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    ("google_oauth_secret", r"\bGOCSPX-[A-Za-z0-9_\-]{20,}"),
    ("heroku_api_key", r"(?i)(?P<k>heroku[\w-]{0,20}" + _KV + r")[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                       r"[0-9a-f]{12}"),
    ("sendgrid_key", r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}"),
    ("twilio_key", r"\bSK[0-9a-fA-F]{32}\b"),
    ("mailgun_key", r"\bkey-[0-9a-zA-Z]{32}\b"),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("pypi_token", r"\bpypi-[A-Za-z0-9_\-]{50,}"),
    ("azure_key", r"(?i)(?P<k>(?:AccountKey|azure[_-]?(?:storage[_-]?)?(?:key|secret))" + _KV + r")[A-Za-z0-9+/=]{40,}"),
    ("digitalocean_token", r"\bdo[por]_v1_[a-f0-9]{64}\b"),
    ("datadog_key", r"(?i)(?P<k>(?:dd|datadog)[_-]?(?:api|app)[_-]?key" + _KV + r")[a-f0-9]{32,40}"),
    ("db_connection_string", r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql)"
                             r"://[^\s'\"]+"),
    ("password_in_url", r"(?P<k>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:)[^/\s@]+(?=@)"),
    ("bearer_token", r"(?i)(?P<k>\bbearer\s+)[A-Za-z0-9\-._~+/]{8,}=*"),
    ("password", r"(?i)(?P<k>\b(?:password|passwd|pwd)" + _KV + r")[^\s'\",;]+"),
    ("generic_api_key", r"(?i)(?P<k>\b(?:api[_-]?key|apikey|x-api-key)" + _KV + r")[A-Za-z0-9_\-]{8,}"),
    ("hex_secret", r"(?i)(?P<k>\b\w*(?:key|secret|token|salt)\w*" + _KV + r")[a-f0-9]{32,}\b"),
    ("generic_secret", r"(?i)(?P<k>\b(?:secret|client_secret|token|access_token|auth_token|refresh_token)"
                       + _KV + r")[A-Za-z0-9_\-./+=]{8,}"),
)


@functools.cache
def _compiled() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((name, re.compile(pattern)) for name, pattern in _SOURCES)


def __getattr__(name: str) -> object:
    """`SECRET_PATTERNS`, compiled on first use (PERF: 27 patterns, not compiled at every start)."""
    if name == "SECRET_PATTERNS":
        return _compiled()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def redact_secrets(text: str) -> dict[str, Any]:
    """Redact every secret in `text`; returns redacted text, the number of redactions and the types found."""
    count = 0
    found: list[str] = []
    for name, pattern in _compiled():
        def replace(match: re.Match[str], name: str = name) -> str:
            return (match.groupdict().get("k") or "") + f"[REDACTED:{name}]"

        text, hits = pattern.subn(replace, text)
        if hits:
            count += hits
            found.append(name)
    return {"redacted_text": text, "redaction_count": count, "detected_types": found}
