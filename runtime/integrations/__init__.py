"""Integrations: the provider catalog, credential references, tool instances, workflow tool bindings."""

from agentstage.runtime.lazy import lazy_exports as _lazy_exports

__getattr__ = _lazy_exports(__name__, {
    "Conflict": "agentstage.runtime.integrations.catalog",
    "ToolCatalog": "agentstage.runtime.integrations.catalog",
    "CredentialError": "agentstage.runtime.integrations.credentials",
    "CredentialResolver": "agentstage.runtime.integrations.credentials",
    "parse_ref": "agentstage.runtime.integrations.credentials",
    "ToolInstance": "agentstage.runtime.integrations.instances",
    "WorkflowBinding": "agentstage.runtime.integrations.instances",
    "merge_selection": "agentstage.runtime.integrations.instances",
    "PROVIDERS": "agentstage.runtime.integrations.providers",
    "IntegrationProvider": "agentstage.runtime.integrations.providers",
})

__all__ = [
    "PROVIDERS",
    "Conflict",
    "CredentialError",
    "CredentialResolver",
    "IntegrationProvider",
    "ToolCatalog",
    "ToolInstance",
    "WorkflowBinding",
    "merge_selection",
    "parse_ref",
]
