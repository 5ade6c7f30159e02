"""Integrations: the provider catalog, credential references, tool instances, workflow tool bindings."""

from agentstage.runtime.integrations.catalog import Conflict, ToolCatalog
from agentstage.runtime.integrations.credentials import CredentialError, CredentialResolver, parse_ref
from agentstage.runtime.integrations.instances import ToolInstance, WorkflowBinding, merge_selection
from agentstage.runtime.integrations.providers import PROVIDERS, IntegrationProvider

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
