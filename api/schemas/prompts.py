"""Prompts at the reference DevUI's paths and in its shapes: `{count, prompts}`, `{ref, rendered}`, `{valid, spec}`."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

__all__ = ["PromptBodySchema", "PromptListSchema", "PromptRemovedSchema", "PromptRenderSchema", "PromptSavedSchema",
           "PromptSchema", "RenderedSchema", "ValidatedSchema"]


class _SpecFields(Schema):
    """A prompt spec's fields (checked in full by the registry, which names the field it refuses)."""

    name = fields.String(validate=validate.Length(max=100))
    version = fields.String(validate=validate.Length(max=100))
    system = fields.String(validate=validate.Length(max=100_000))
    description = fields.String(validate=validate.Length(max=2_000))
    tags = fields.List(fields.String(validate=validate.Length(max=100)), validate=validate.Length(max=50))
    inputSchema = fields.Dict(allow_none=True)
    metadata = fields.Dict()


class PromptBodySchema(_SpecFields):
    """`{spec: {...}}` or the spec's fields at the top level."""

    spec = fields.Nested(_SpecFields, metadata={"description": "the spec (its fields may also be given at the top)"})


class PromptRenderSchema(_SpecFields):
    """`{ref, input}` renders a stored prompt; `{name, version, system, input}` renders the spec given inline."""

    ref = fields.String(validate=validate.Length(1, 201), metadata={"description": "name or name@version"})
    input = fields.Dict(load_default=dict, metadata={"description": "values of the {{variables}}"})


class PromptSummarySchema(Schema):
    name = fields.String(required=True)
    version = fields.String(required=True)
    description = fields.String(required=True)
    tags = fields.List(fields.String(), required=True)
    ref = fields.String(required=True, metadata={"description": "name@version"})


class PromptListSchema(Schema):
    count = fields.Integer(required=True)
    prompts = fields.List(fields.Nested(PromptSummarySchema), required=True)


class PromptSchema(PromptSummarySchema):
    """One prompt version in full."""

    system = fields.String(required=True)
    inputSchema = fields.Dict(allow_none=True)
    metadata = fields.Dict(required=True)
    variables = fields.List(fields.String(), required=True, metadata={"description": "the {{variables}} it uses"})
    builtin = fields.Boolean(required=True, metadata={"description": "shipped with agentstage (cannot be changed)"})


class RenderedSchema(Schema):
    ref = fields.String(required=True)
    rendered = fields.String(required=True)


class ValidatedSchema(Schema):
    valid = fields.Boolean(required=True)
    spec = fields.Nested(PromptSchema, required=True, metadata={"description": "the spec as it would be stored"})


class PromptRemovedSchema(Schema):
    ok = fields.Boolean(required=True)
    removed = fields.List(fields.String(), required=True, metadata={"description": "the refs removed"})


class PromptSavedSchema(Schema):
    ok = fields.Boolean(required=True)
    prompt = fields.Nested(PromptSchema, required=True)
