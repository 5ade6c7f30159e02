"""Workflows: a registry of named graphs, a JSON loader validated with marshmallow, built-ins."""

from agentstage.runtime.workflow.builtin import default_registry
from agentstage.runtime.workflow.loader import WorkflowFileError, dump_workflow, load_workflow, load_workflow_file
from agentstage.runtime.workflow.registry import GraphSource, WorkflowRegistry

__all__ = [
    "GraphSource",
    "WorkflowFileError",
    "WorkflowRegistry",
    "default_registry",
    "dump_workflow",
    "load_workflow",
    "load_workflow_file",
]
