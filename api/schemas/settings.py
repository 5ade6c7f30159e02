"""Provider settings in the reference DevUI's shapes: which variables are set (never a secret's value) and
the models a provider offers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

__all__ = ["ProviderEnvSchema", "ProviderModelsQuery", "ProviderModelsSchema"]


class EnvFieldSchema(Schema):
    key = fields.String(required=True)
    secret = fields.Boolean(required=True, metadata={"description": "its value is never shown"})
    read = fields.Boolean(required=True, metadata={"description": "whether agentstage reads it (the others are "
                                                                  "listed for the reference DevUI's clients)"})


class ProviderEnvSchema(Schema):
    values = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"description": "values of the non-secret variables (empty when unset)"})
    configured = fields.Dict(keys=fields.String(), values=fields.Boolean(), required=True,
                             metadata={"description": "variable -> whether it is set"})
    fields_ = fields.List(fields.Nested(EnvFieldSchema), required=True, data_key="fields", attribute="fields")
    keys = fields.List(fields.String(), required=True)


class ProviderModelsQuery(Schema):
    provider = fields.String(load_default=None, validate=validate.Length(0, 40), metadata={
        "description": "openai, azure (or azureopenai), anthropic, gemini, ollama or scripted; "
                       "default: the configured provider"})


class ProviderModelsSchema(Schema):
    provider = fields.String(required=True)
    modelKey = fields.String(required=True, metadata={"description": "the variable that chooses the model"})
    current = fields.String(required=True, metadata={"description": "the model runs use now"})
    models = fields.List(fields.String(), required=True, metadata={"description": "sorted, no duplicates"})
    source = fields.String(required=True, metadata={"enum": ["api", "fallback"]})
    error = fields.String(metadata={"description": "why the provider's server gave no list, when it was asked"})
