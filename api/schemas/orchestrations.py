"""Orchestrations: the patterns and their fields, stored definitions, and the body that creates one."""

from __future__ import annotations

from marshmallow import Schema, fields

from agentstage.runtime.workflow.orchestrations import OrchestrationSchema

__all__ = ["OrchestrationBodySchema", "OrchestrationDetailSchema", "PatternSchema", "StoredOrchestrationSchema"]


class PatternFieldSchema(Schema):
    name = fields.String(required=True)
    type = fields.String(required=True, metadata={"enum": ["agent", "agents", "routes", "integer"], "description":
                         "agent: one agent name; agents: a list of them; routes: label -> agent name"})
    required = fields.Boolean(required=True)
    description = fields.String(required=True)
    default = fields.Raw(allow_none=True, required=True, metadata={"description": "the value when not given"})


class PatternSchema(Schema):
    name = fields.String(required=True, metadata={"description": "the `pattern` of a definition"})
    description = fields.String(required=True)
    fields_ = fields.List(fields.Nested(PatternFieldSchema), required=True, data_key="fields", attribute="fields",
                          metadata={"description": "the pattern's own fields, beside name, pattern and description"})


class OrchestrationBodySchema(OrchestrationSchema):
    """Body of `POST /orchestrations`: a definition (`GET /orchestrations/patterns` lists each pattern's fields)."""


class StoredOrchestrationSchema(Schema):
    name = fields.String(required=True, metadata={"description": "the workflow name its runs use"})
    pattern = fields.String(required=True)
    description = fields.String(required=True)
    valid = fields.Boolean(required=True, metadata={"description": "false when its file does not load or names an "
                                                                   "agent this runtime lacks"})
    problems = fields.List(fields.String(), required=True, metadata={"description": "`field: message` lines"})
    file = fields.String(required=True, metadata={"description": "its file in the workflow directory"})
    definition = fields.Dict(keys=fields.String(), required=True,
                             metadata={"description": "the definition, as checked (as written when invalid)"})


class OrchestrationDetailSchema(StoredOrchestrationSchema):
    mermaid = fields.String(allow_none=True, required=True,
                            metadata={"description": "its workflow graph as a Mermaid flowchart (null when invalid)"})
