"""The query of the file routes: one path inside the tool sandbox."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

__all__ = ["FileQuery"]


class FileQuery(Schema):
    path = fields.String(required=True, validate=validate.Length(1, 4096), metadata={
        "description": "a file of the tool sandbox: relative to it, or absolute inside it"})
