"""Skills at the reference DevUI's paths and in its shapes: `{skills, count}` and one skill with its instructions."""

from __future__ import annotations

from marshmallow import Schema, fields

__all__ = ["SkillDetailSchema", "SkillListSchema"]


class SkillSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    license = fields.String(required=True)
    allowedTools = fields.List(fields.String(), required=True, metadata={"description": "tools it may use"})
    metadata = fields.Dict(required=True)
    source = fields.String(required=True, metadata={"enum": ["builtin", "folder"]})
    path = fields.String(required=True, metadata={"description": "its SKILL.md (empty for a built-in)"})


class SkillListSchema(Schema):
    skills = fields.List(fields.Nested(SkillSchema), required=True)
    count = fields.Integer(required=True)


class SkillDetailSchema(SkillSchema):
    instructions = fields.String(required=True, metadata={"description": "the markdown body of its SKILL.md"})
