"""JSON errors everywhere: `{"title", "description", "errors": {field: [messages]}}`.

Validation failures are 422 naming each field, unknown ids 404, a run that cannot be steered that
way (or an operation the run-control mode lacks) 409 with the reason, malformed JSON stays Falcon's
400, and anything unexpected is logged with the request id and answered with a bare 500.
Handlers are coroutines, as the ASGI app requires.
"""

from __future__ import annotations

from typing import Any

import falcon
import marshmallow
from loguru import logger

from agentstage.runtime.errors import InvalidArgument, NoCoordinator, NotApplicable, NotFound, Refused, StoreError
from agentstage.runtime.integrations.catalog import Conflict
from agentstage.runtime.tools.custom import DefinitionError

__all__ = ["FieldError", "install_error_handling"]


class FieldError(falcon.HTTPError):
    """An HTTP error that names the offending fields."""

    def __init__(self, status: str | int, *, title: str, description: str = "",
                 errors: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, title=title, description=description, headers=headers)
        self.errors = errors or {}


def _serialize(req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError) -> None:
    resp.content_type = falcon.MEDIA_JSON
    resp.media = {"title": exc.title or "", "description": exc.description or "",
                  "errors": getattr(exc, "errors", {}) or {}}


async def _validation(req: falcon.Request, resp: falcon.Response, exc: marshmallow.ValidationError,
                      params: dict) -> None:
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    raise FieldError(422, title="Invalid request", description="some fields are invalid", errors=messages)


async def _not_found(req: falcon.Request, resp: falcon.Response, exc: NotFound, params: dict) -> None:
    raise FieldError(404, title="Not found", description=f"unknown {exc.kind}: {exc.key}")


async def _invalid(req: falcon.Request, resp: falcon.Response, exc: InvalidArgument, params: dict) -> None:
    raise FieldError(422, title="Invalid request", description="some fields are invalid",
                     errors={exc.field: [exc.reason]})


async def _refused(req: falcon.Request, resp: falcon.Response, exc: Refused, params: dict) -> None:
    title = "Not applicable" if isinstance(exc, NotApplicable) else "Conflict"
    raise FieldError(409, title=title, description=exc.reason,
                     errors={exc.field: [exc.reason]} if exc.field else None)


async def _definition(req: falcon.Request, resp: falcon.Response, exc: DefinitionError, params: dict) -> None:
    raise FieldError(422, title="Invalid definition", description=str(exc), errors={exc.field: [exc.reason]})


async def _conflict(req: falcon.Request, resp: falcon.Response, exc: Conflict, params: dict) -> None:
    raise FieldError(409, title="Conflict", description=str(exc), errors={"name": [str(exc)]})


async def _store(req: falcon.Request, resp: falcon.Response, exc: StoreError, params: dict) -> None:
    logger.error("store error on {} {} (request {}): {}", req.method, req.path,
                 getattr(req.context, "request_id", ""), exc.reason)
    if isinstance(exc, NoCoordinator):
        raise falcon.HTTPServiceUnavailable(title="No coordinator", description=exc.reason, retry_after=5)
    raise falcon.HTTPServiceUnavailable(title="Store unavailable", description="the state store cannot be used now")


async def _unexpected(req: falcon.Request, resp: falcon.Response, exc: Exception, params: dict) -> None:
    if isinstance(exc, falcon.HTTPError):
        raise exc
    logger.opt(exception=exc).error("unhandled error on {} {} (request {})", req.method, req.path,
                                    getattr(req.context, "request_id", ""))
    raise falcon.HTTPInternalServerError(title="Internal error", description="")


def install_error_handling(app: falcon.App) -> None:
    """Register the serializer and handlers on `app` (the most general first: Falcon picks the closest)."""
    app.set_error_serializer(_serialize)
    app.add_error_handler(Exception, _unexpected)
    app.add_error_handler(marshmallow.ValidationError, _validation)
    app.add_error_handler(NotFound, _not_found)
    app.add_error_handler(StoreError, _store)
    app.add_error_handler(DefinitionError, _definition)
    app.add_error_handler(Conflict, _conflict)
    app.add_error_handler(InvalidArgument, _invalid)
    app.add_error_handler(Refused, _refused)
