"""What every resource uses: its OpenAPI operation description and the load/dump helpers.

Responders are coroutines on the event loop: they load with a schema, await the backend (whose
`call`/`read` run blocking work on its pool) and dump with a schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import falcon
import falcon.asgi
from marshmallow import Schema

from agentstage.api.backend import Backend
from agentstage.api.errors import FieldError
from agentstage.api.validation import json_problems

__all__ = ["Op", "Resource", "dump", "load_body", "load_query"]


@dataclass(frozen=True)
class Op:
    """How one responder appears in the OpenAPI document (and which schemas it uses)."""

    summary: str
    tag: str
    response: type[Schema] | None = None
    many: bool = False
    status: int = 200
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Resource:
    """Base of the API's resources: holds the backend; `OPS` maps a method to its `Op`."""

    OPS: dict[str, Op] = {}

    def __init__(self, backend: Backend) -> None:
        self.backend = backend


_SCHEMAS: dict[type[Schema], Schema] = {}


def _schema(cls: type[Schema]) -> Schema:
    schema = _SCHEMAS.get(cls)
    if schema is None:
        schema = _SCHEMAS[cls] = cls()
    return schema


def load_query(req: falcon.asgi.Request, schema: type[Schema], lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """The query string loaded with `schema` (unknown parameters are a 422); `lists` may repeat."""
    params = dict(req.params)
    for name in lists:
        if isinstance(params.get(name), str):
            params[name] = [params[name]]
    return _schema(schema).load(params)


async def load_body(req: falcon.asgi.Request, schema: type[Schema]) -> dict[str, Any]:
    """The JSON body loaded with `schema`; a missing body is a 422 naming it."""
    media = await req.get_media(default_when_empty=None)
    if media is None:
        raise FieldError(422, title="Invalid request", description="a JSON body is required",
                         errors={"_schema": ["a JSON body is required"]})
    problems = json_problems(media)
    if problems:
        raise FieldError(422, title="Invalid request", description="some values cannot be stored or read back",
                         errors=problems)
    return _schema(schema).load(media)


def dump(resp: falcon.asgi.Response, schema: type[Schema], value: Any, *, many: bool = False,
         status: int = 200) -> None:
    """Set the response body to `value` dumped with `schema`."""
    resp.status = status
    resp.media = _schema(schema).dump(value, many=many)
