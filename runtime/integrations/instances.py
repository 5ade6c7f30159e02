"""Tool instances (a provider template bound to config and credential references) and workflow
tool bindings (extra tools a workflow's agents may use), as validated definitions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentstage.runtime.errors import AgentstageError
from agentstage.runtime.integrations.providers import PROVIDERS
from agentstage.runtime.tools.custom import NAME_RULE, DefinitionError
from agentstage.runtime.tools.redaction import redact_secrets
from agentstage.runtime.tools.selection import parse_selection

__all__ = ["ToolInstance", "WorkflowBinding", "merge_selection"]


@dataclass(frozen=True)
class ToolInstance:
    """A named tool made from a provider template; `credentials` maps field -> reference (never a value)."""

    name: str
    provider: str
    config: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)
    description: str = ""
    enabled: bool = True

    @classmethod
    def from_dict(cls, raw: Any, check_ref: Callable[[str], None]) -> ToolInstance:
        """Validate a definition; raises DefinitionError naming the field (credentials are checked, not resolved)."""
        if not isinstance(raw, Mapping):
            raise DefinitionError("(root)", "a tool instance is a JSON object")
        extra = sorted(set(raw) - {"name", "template", "config", "credentials", "description", "enabled"})
        if extra:
            raise DefinitionError(extra[0], "unknown field")
        name, template = raw.get("name"), raw.get("template")
        if not isinstance(name, str) or not NAME_RULE.match(name):
            raise DefinitionError("name", "a letter then 2-63 letters, digits, '_' or '-'")
        if template not in PROVIDERS:
            raise DefinitionError("template", f"one of {', '.join(sorted(PROVIDERS))}")
        provider = PROVIDERS[template]
        config, credentials = raw.get("config") or {}, raw.get("credentials") or {}
        if not isinstance(config, Mapping):
            raise DefinitionError("config", "an object")
        if not isinstance(credentials, Mapping):
            raise DefinitionError("credentials", "an object of field -> reference")
        for key, value in config.items():
            if redact_secrets(json.dumps(value) if not isinstance(value, str) else value)["redaction_count"]:
                raise DefinitionError(f"config.{key}", "looks like a secret: use a credential reference instead")
        for key in provider.config_fields:
            if key not in config:
                raise DefinitionError(f"config.{key}", f"required by {template}")
        allowed = set(provider.credential_fields) | set(provider.optional_credentials)
        for key in provider.credential_fields:
            if key not in credentials:
                raise DefinitionError(f"credentials.{key}", f"required by {template}")
        for key, ref in credentials.items():
            if key not in allowed:
                raise DefinitionError(f"credentials.{key}", f"{template} takes {', '.join(sorted(allowed)) or 'none'}")
            try:
                check_ref(ref)
            except AgentstageError as exc:
                raise DefinitionError(f"credentials.{key}", str(exc)) from None
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            raise DefinitionError("enabled", "true or false")
        return cls(name, template, dict(config), dict(credentials), str(raw.get("description") or ""), enabled)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "template": self.provider, "config": self.config,
                "credentials": self.credentials, "description": self.description, "enabled": self.enabled}


@dataclass(frozen=True)
class WorkflowBinding:
    """Tools (names or `@bundle`s) bound to a workflow; merged into its agents' selection at run time."""

    workflow: str
    tools: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"workflow": self.workflow, "tools": list(self.tools)}


def merge_selection(base: str | Iterable[str], binding: WorkflowBinding | None) -> list[str]:
    """A selection with a workflow's bound entries appended (duplicates are dropped when expanded)."""
    entries = parse_selection(base)
    return entries + [t for t in (binding.tools if binding else ()) if t not in entries]
