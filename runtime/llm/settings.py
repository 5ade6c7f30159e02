"""The provider settings the DevUI shows: which are set, and the values of those that are not secret.

The list holds the reference DevUI's 17 keys (so its settings screen finds them) and the variables
agentstage itself reads; `read` says which of them agentstage uses. Secrets are only ever reported
as configured or not: their values never leave this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agentstage.runtime.config import Config
from agentstage.runtime.secret_patterns import redact_secrets

__all__ = ["PROVIDER_ENV", "EnvField", "provider_env"]


@dataclass(frozen=True, slots=True)
class EnvField:
    """One provider variable: whether its value is a secret, whether agentstage reads it."""

    key: str
    secret: bool
    read: bool


PROVIDER_ENV: tuple[EnvField, ...] = (
    EnvField("AGENT_PROVIDER", False, False),
    EnvField("GEMINI_API_KEY", True, True),
    EnvField("GEMINI_MODEL", False, False),
    EnvField("OPENAI_API_KEY", True, True),
    EnvField("OPENAI_MODEL", False, False),
    EnvField("OPENAI_BASE_URL", False, True),
    EnvField("ANTHROPIC_API_KEY", True, True),
    EnvField("ANTHROPIC_MODEL", False, False),
    EnvField("ANTHROPIC_BASE_URL", False, True),
    EnvField("OLLAMA_API_KEY", True, False),
    EnvField("OLLAMA_MODEL", False, False),
    EnvField("OLLAMA_BASE_URL", False, False),
    EnvField("AZURE_OPENAI_API_KEY", True, True),
    EnvField("AZURE_OPENAI_ENDPOINT", False, True),
    EnvField("AZURE_OPENAI_DEPLOYMENT", False, True),
    EnvField("AZURE_OPENAI_MODEL", False, False),
    EnvField("AZURE_OPENAI_API_VERSION", False, True),
    EnvField("AGENTSTAGE_PROVIDER", False, True),
    EnvField("AGENTSTAGE_MODEL", False, True),
    EnvField("AZURE_OPENAI_AD_TOKEN", True, True),
    EnvField("OPENAI_API_VERSION", False, True),
    EnvField("OPENAI_ORG_ID", True, True),
    EnvField("GEMINI_BASE_URL", False, True),
    EnvField("OLLAMA_HOST", False, True),
)
"""The reference's 17 keys first (its five `*_API_KEY` secrets), then the ones only agentstage reads."""

_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def _shown(value: str) -> str:
    """A non-secret value as shown: credentials in a URL's user part and known secret shapes removed."""
    return redact_secrets(_USERINFO.sub("", value))["redacted_text"] if value else value


def provider_env(config: Config) -> dict[str, Any]:
    """`{values, configured, fields, keys}`: values of the non-secret variables only (empty when unset)."""
    values: dict[str, str] = {}
    configured: dict[str, bool] = {}
    for field in PROVIDER_ENV:
        value = str(config.env.get(field.key, "")).strip()
        configured[field.key] = bool(value)
        if not field.secret:
            values[field.key] = _shown(value)
    return {"values": values, "configured": configured,
            "fields": [{"key": f.key, "secret": f.secret, "read": f.read} for f in PROVIDER_ENV],
            "keys": sorted(f.key for f in PROVIDER_ENV)}
