"""Playground and flows in the reference DevUI's shapes: PlaygroundRequest, PlaygroundResponse, flow Definitions."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from agentstage.api.redaction import RedactedString

__all__ = ["FlowBodySchema", "FlowListSchema", "FlowRunSchema", "FlowSavedSchema", "FlowSchema",
           "PlaygroundRequestSchema", "PlaygroundResponseSchema"]

_NAMES = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=list,
                     validate=validate.Length(max=50))


def _empty_history(value: list) -> None:
    if value:
        raise ValidationError("send sessionId instead: a session's history is read from the store")


class PlaygroundRequestSchema(Schema):
    """What to run: an input with an agent configuration (a flow, tools, skills, a prompt) or a workflow."""

    input = fields.String(required=True, validate=validate.Length(1, 100_000))
    sessionId = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 200))
    history = fields.List(fields.Dict(), load_default=list, validate=_empty_history)
    flow = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))
    workflow = fields.String(load_default="", validate=validate.Length(max=200))
    workflowFile = fields.String(load_default="", validate=validate.Length(max=0, error="not supported: register "
                                                                                    "the workflow first"))
    agent = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 200))
    tools = _NAMES
    skills = _NAMES
    guardrails = _NAMES
    promptRef = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 201))
    promptInput = fields.Dict(load_default=dict)
    systemPrompt = fields.String(load_default="", validate=validate.Length(max=100_000))
    replyTo = fields.Dict(load_default=None, allow_none=True, metadata={"description": "echoed in the answer"})
    timeout = fields.Float(load_default=None, allow_none=True, validate=validate.Range(0.1, 3600),
                           metadata={"description": "seconds to wait for the run (default: the run timeout)"})


class PlaygroundResponseSchema(Schema):
    output = RedactedString(required=True, metadata={"description": "the answer (secrets redacted)"})
    runId = fields.String(required=True)
    sessionId = fields.String(required=True)
    provider = fields.String(required=True)
    appliedSkills = fields.List(fields.String(), required=True)
    status = fields.String(required=True, metadata={"enum": ["completed", "failed"]})
    error = RedactedString(allow_none=True)
    replyTo = fields.Dict(allow_none=True)
    flow = fields.String(allow_none=True)
    workflow = fields.String(allow_none=True)


class FlowSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    workflow = fields.String(required=True)
    tools = fields.List(fields.String(), required=True)
    skills = fields.List(fields.String(), required=True)
    systemPrompt = fields.String(required=True)
    inputExample = fields.String(required=True)
    inputSchema = fields.Dict(allow_none=True)
    outputSchema = fields.Dict(allow_none=True)
    builtin = fields.Boolean(required=True)
    persisted = fields.Boolean(required=True, metadata={"description": "kept in AGENTSTAGE_FLOW_DIR"})


class FlowListSchema(Schema):
    flows = fields.List(fields.Nested(FlowSchema), required=True)
    count = fields.Integer(required=True)


class _FlowFields(Schema):
    name = fields.String()
    description = fields.String()
    workflow = fields.String()
    tools = fields.List(fields.String())
    skills = fields.List(fields.String())
    systemPrompt = fields.String()
    inputExample = fields.String()
    inputSchema = fields.Dict(allow_none=True)
    outputSchema = fields.Dict(allow_none=True)


class FlowBodySchema(_FlowFields):
    """`{flow: {...}, persist}` or the flow's fields at the top level; `persist` defaults to true."""

    flow = fields.Nested(_FlowFields)
    persist = fields.Boolean(load_default=True)


class FlowSavedSchema(Schema):
    ok = fields.Boolean(required=True)
    flow = fields.Nested(FlowSchema, required=True)
    persisted = fields.Boolean(required=True)


class FlowRunSchema(Schema):
    input = fields.String(required=True, validate=validate.Length(1, 100_000))
    sessionId = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 200))
    replyTo = fields.Dict(load_default=None, allow_none=True)
    timeout = fields.Float(load_default=None, allow_none=True, validate=validate.Range(0.1, 3600))
