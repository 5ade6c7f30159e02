"""Shapes shared by many routes: errors, pagination, time stamps, ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

__all__ = ["ErrorSchema", "ID", "OkSchema", "PageQuery", "Timestamp", "UtcDateTime", "id_field", "to_ts"]

ID = validate.Regexp(r"^[A-Za-z0-9._:-]{1,128}$", error="must be 1-128 letters, digits, '.', '_', ':' or '-'")


def id_field(description: str, **kwargs: Any) -> fields.String:
    """A validated id (run, session, key...)."""
    return fields.String(validate=ID, metadata={"description": description}, **kwargs)


def Timestamp(description: str, **kwargs: Any) -> fields.String:
    """A stored time stamp: UTC ISO-8601 with milliseconds, dumped as stored."""
    return fields.String(metadata={"description": description, "format": "date-time"}, **kwargs)


class UtcDateTime(fields.AwareDateTime):
    """An aware ISO-8601 time that has a UTC equivalent (an offset past the calendar's edge is refused)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError("out of range once converted to UTC") from None
        return moment


def to_ts(moment: datetime | None) -> str | None:
    """A query's aware datetime in the store's text form (which sorts as time)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ErrorSchema(Schema):
    """Every error response."""

    title = fields.String(required=True)
    description = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True,
                         metadata={"description": "field name -> list of messages"})


class OkSchema(Schema):
    """A mutation that returns nothing else."""

    ok = fields.Boolean(required=True)


class PageQuery(Schema):
    """`limit` and `cursor` of keyset-paginated listings."""

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500),
                           metadata={"description": "items per page (1-500)"})
    cursor = fields.String(load_default=None, validate=validate.Length(1, 512),
                           metadata={"description": "the next_cursor of the previous page"})
