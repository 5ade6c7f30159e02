"""Tools and integrations: the registry, bundles, provider templates, tool instances, bindings, credential refs.

Credential fields only ever hold references (`env:NAME`, `file:/path`...), never secret values.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from agentstage.api.schemas.common import Timestamp

__all__ = [
    "BindingSchema",
    "BundleSchema",
    "CatalogSchema",
    "CredentialRefSchema",
    "InstanceCreateSchema",
    "InstanceSchema",
    "InstanceUpdateSchema",
    "ProviderSchema",
    "RegistryToolSchema",
    "TemplateSchema",
]

_NAME = validate.Regexp(r"^[A-Za-z][A-Za-z0-9_-]{2,63}$", error="a letter then 2-63 letters, digits, '_' or '-'")


class RegistryToolSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    parameters = fields.Dict(required=True, metadata={"description": "JSON schema of the arguments"})
    side_effects = fields.Boolean(required=True)
    available = fields.Boolean(required=True)
    kind = fields.String(required=True, metadata={"enum": ["builtin", "custom", "instance"]})


class BundleSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    tools = fields.List(fields.String(), required=True)


class CatalogToolSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)


class CatalogBundleSchema(BundleSchema):
    name = fields.String(required=True, metadata={"description": "the bundle as selected: @name"})


class CatalogSchema(Schema):
    """The reference DevUI's `tools/catalog`: bundles as `@name` and every tool with its description."""

    bundles = fields.List(fields.Nested(CatalogBundleSchema), required=True)
    tools = fields.List(fields.Nested(CatalogToolSchema), required=True)


class GuardrailSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    direction = fields.String(required=True, metadata={"enum": ["input", "output", "tool", "both"]})
    directions = fields.List(fields.String(), required=True)
    default_action = fields.String(required=True, data_key="defaultAction",
                                   metadata={"enum": ["block", "warn", "redact"]})
    configurable = fields.Boolean(required=True)


class GuardrailsSchema(Schema):
    guardrails = fields.List(fields.Nested(GuardrailSchema), required=True)
    count = fields.Integer(required=True)


class ProviderSchema(Schema):
    name = fields.String(required=True)
    display_name = fields.String(required=True)
    description = fields.String(required=True)
    capabilities = fields.List(fields.String(), required=True)
    credential_fields = fields.List(fields.String(), required=True)
    config_fields = fields.List(fields.String(), required=True)
    optional_credentials = fields.List(fields.String(), required=True)
    available = fields.Boolean(required=True)
    unavailable_reason = fields.String(required=True)


class TemplateSchema(ProviderSchema):
    parameters = fields.Dict(required=True, metadata={"description": "JSON schema of the instance tool's arguments"})


class InstanceUpdateSchema(Schema):
    """A tool instance: a provider template with config and credential references."""

    template = fields.String(required=True, validate=validate.Length(1, 100), metadata={"description": "provider name"})
    config = fields.Dict(keys=fields.String(), load_default=dict)
    credentials = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Length(1, 500)),
                              load_default=dict, metadata={"description": "field -> reference such as env:NAME"})
    description = fields.String(load_default="", validate=validate.Length(0, 1000))
    enabled = fields.Boolean(load_default=True)


class InstanceCreateSchema(InstanceUpdateSchema):
    name = fields.String(required=True, validate=_NAME)


class InstanceSchema(InstanceCreateSchema):
    created_at = Timestamp("first saved")
    updated_at = Timestamp("last saved")


class BindingSchema(Schema):
    workflow = fields.String(required=True)
    tools = fields.List(fields.String(), required=True, metadata={"description": "tool names and @bundles"})


class CredentialRefSchema(Schema):
    tool = fields.String(required=True)
    provider = fields.String(required=True)
    field = fields.String(required=True)
    secret_ref = fields.String(required=True, metadata={"description": "the reference, never the value"})
    resolvable = fields.Boolean(required=True, metadata={"description": "whether it resolves now"})
