"""Sessions: the conversations runs belong to."""

from __future__ import annotations

import falcon.asgi

from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump, load_query
from agentstage.api.schemas.common import PageQuery
from agentstage.api.schemas.runs import RunPageSchema, SessionPageSchema

__all__ = ["SessionRunsResource", "SessionsResource"]

_BAD_CURSOR = {"cursor": ["malformed cursor"]}


class SessionsResource(Resource):
    OPS = {"GET": Op("Sessions, most recently active first", "sessions", SessionPageSchema, query=PageQuery,
                     errors=(422,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        q = load_query(req, PageQuery)
        try:
            page = await self.backend.read(lambda reader: reader.list_sessions(limit=q["limit"], cursor=q["cursor"]))
        except ValueError:
            raise FieldError(422, title="Invalid request", errors=_BAD_CURSOR) from None
        dump(resp, SessionPageSchema, page)


class SessionRunsResource(Resource):
    OPS = {"GET": Op("A session's runs, oldest first", "sessions", RunPageSchema, query=PageQuery,
                     errors=(404, 422))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, session_id: str) -> None:
        q = load_query(req, PageQuery)
        await self.backend.read(lambda reader: reader.session(session_id))
        try:
            page = await self.backend.read(lambda reader: reader.runs_page(
                filters={"session_id": session_id}, limit=q["limit"], cursor=q["cursor"], order="asc"))
        except ValueError:
            raise FieldError(422, title="Invalid request", errors=_BAD_CURSOR) from None
        dump(resp, RunPageSchema, page)
