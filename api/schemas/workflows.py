"""Workflows (graphs): their shape, Mermaid diagram, and the resume body of a graph run."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

__all__ = ["ForkSchema", "RegisterWorkflowSchema", "RegisteredWorkflowSchema", "RegistrySchema", "ResumeSchema",
           "WorkflowSchema", "WorkflowSummarySchema"]


class WorkflowSummarySchema(Schema):
    name = fields.String(required=True)
    valid = fields.Boolean(required=True, metadata={"description": "false when its file failed to load"})
    description = fields.String(required=True)
    source_file = fields.String(allow_none=True, required=True, metadata={"description": "null: built in"})
    problems = fields.List(fields.String(), required=True, metadata={"description": "why an invalid file failed"})


class NodeSchema(Schema):
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": ["agent", "tool", "router", "human", "parallel", "map",
                                                           "set"]})


class EdgeSchema(Schema):
    source = fields.String(attribute="from", data_key="from", required=True)
    to = fields.String(required=True)


class TransitionSchema(Schema):
    source = fields.String(attribute="from", data_key="from", required=True, metadata={"description": "a node or start"})
    to = fields.String(required=True, metadata={"description": "a node, or end"})
    label = fields.String(required=True, metadata={"description": "a router route's label, default, or empty"})


class WorkflowSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    entry = fields.String(required=True)
    max_steps = fields.Integer(allow_none=True, required=True)
    nodes = fields.List(fields.Nested(NodeSchema), required=True)
    edges = fields.List(fields.Nested(EdgeSchema), required=True, metadata={"description": "non-router transitions"})
    transitions = fields.List(fields.Nested(TransitionSchema), required=True,
                              metadata={"description": "every transition, router routes and defaults included"})
    mermaid = fields.String(required=True, metadata={"description": "the graph as a Mermaid flowchart"})
    source_file = fields.String(allow_none=True, required=True)


class ResumeSchema(Schema):
    input = fields.String(load_default=None, validate=validate.Length(1, 100_000),
                          metadata={"description": "the answer a waiting human step asks for"})


class ForkSchema(Schema):
    step = fields.Integer(required=True, strict=True, validate=validate.Range(0, 1_000_000),
                          metadata={"description": "the checkpoint step of the source run to start from"})
    state_patch = fields.Dict(keys=fields.String(), load_default=dict,
                              metadata={"description": "keys to set in the checkpoint's state before running"})


class RegistryEntrySchema(Schema):
    name = fields.String(required=True)


class RegistrySchema(Schema):
    """The reference DevUI's `workflows/registry` listing."""

    workflows = fields.List(fields.Nested(RegistryEntrySchema), required=True)
    count = fields.Integer(required=True)


class RegisterWorkflowSchema(Schema):
    """Body of `POST /workflows/registry`, as the reference DevUI sends it."""

    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(0, 200),
                         metadata={"description": "the workflow's name (else spec.name)"})
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(0, 10_000))
    spec = fields.Dict(keys=fields.String(), required=True, metadata={
        "description": "the workflow: the reference's format ({start, allowCycles, nodes[{id, kind, ...}], "
                       "edges[{from, to, when{key, equals}}]}) or agentstage's ({entry, nodes[{name, kind, ...}], "
                       "edges, max_steps})"})
    persist = fields.Boolean(load_default=False, metadata={
        "description": "also write it to the workflow directory (AGENTSTAGE_WORKFLOW_DIR), where restarts and "
                       "workers find it; required with a coordinator"})


class RegisteredWorkflowSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    persisted = fields.Boolean(required=True)
    format = fields.String(required=True, metadata={"enum": ["reference", "agentstage"]})
    file = fields.String(allow_none=True, required=True, metadata={"description": "the file written, when persisted"})
