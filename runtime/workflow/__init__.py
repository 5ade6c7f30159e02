"""Workflows: a registry of named graphs, a JSON loader validated with marshmallow (agentstage's format and the
reference DevUI's), built-ins."""

from agentstage.runtime.lazy import lazy_exports as _lazy_exports

__getattr__ = _lazy_exports(__name__, {
    "default_registry": "agentstage.runtime.workflow.builtin",
    "WorkflowFileError": "agentstage.runtime.workflow.loader",
    "dump_workflow": "agentstage.runtime.workflow.loader",
    "load_reference_workflow": "agentstage.runtime.workflow.reference_format",
    "load_workflow": "agentstage.runtime.workflow.loader",
    "load_workflow_file": "agentstage.runtime.workflow.loader",
    "GraphSource": "agentstage.runtime.workflow.registry",
    "WorkflowRegistry": "agentstage.runtime.workflow.registry",
})

__all__ = [
    "GraphSource",
    "WorkflowFileError",
    "WorkflowRegistry",
    "default_registry",
    "dump_workflow",
    "load_reference_workflow",
    "load_workflow",
    "load_workflow_file",
]
