"""Request-level middleware: a request id on every response, a cap on body size, security headers, a log line
for every 5xx."""

from __future__ import annotations

import re

import falcon
import falcon.asgi
from loguru import logger

from agentstage.runtime.clock import new_id

__all__ = ["BodyLimitMiddleware", "ErrorLogMiddleware", "JsonOnlyMiddleware", "RequestIdMiddleware",
           "SecurityHeadersMiddleware"]

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RequestIdMiddleware:
    """Takes a sane incoming `X-Request-ID` or makes one; echoes it on the response."""

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        incoming = req.get_header("X-Request-ID")
        req.context.request_id = incoming if incoming and _SAFE_ID.match(incoming) else new_id()

    async def process_response(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: object,
                               req_succeeded: bool) -> None:
        resp.set_header("X-Request-ID", getattr(req.context, "request_id", ""))


class JsonOnlyMiddleware:
    """Mutations take JSON or nothing: another content type, or a body without one, is a 415.

    A browser lets any site send a form or a `text/plain` body (or an untyped one) cross-site without
    asking; only `application/json` needs a CORS preflight, so only JSON is accepted.
    """

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if req.method not in _MUTATIONS:
            return
        media_type = (req.content_type or "").split(";", 1)[0].strip().lower()
        if media_type != falcon.MEDIA_JSON and (media_type or (req.content_length or 0) > 0):
            raise falcon.HTTPUnsupportedMediaType(title="Not JSON",
                                                  description="send request bodies as application/json")


class BodyLimitMiddleware:
    """Refuses bodies larger than `limit` bytes (413) before anything reads them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        length = req.content_length
        if length is not None and length > self.limit:
            raise falcon.HTTPContentTooLarge(title="Body too large",
                                             description=f"request bodies are limited to {self.limit} bytes")
        if length is None and req.method in ("POST", "PUT", "PATCH") and req.get_header("Transfer-Encoding"):
            raise falcon.HTTPLengthRequired(title="Length required",
                                            description="send a Content-Length header with the body")


PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


class SecurityHeadersMiddleware:
    """Headers a browser needs to keep the page and the API to themselves.

    Every answer gets `nosniff`, no referrer and no framing; the page under `ui_prefix` may load
    only its own scripts, styles and API, everything else nothing. With CORS on, answers vary by Origin.
    """

    def __init__(self, ui_prefix: str, *, cors: bool = False) -> None:
        self.ui_prefix = ui_prefix
        self.cors = cors

    async def process_response(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: object,
                               req_succeeded: bool) -> None:
        page = req.path == self.ui_prefix or req.path.startswith(self.ui_prefix + "/")
        resp.set_header("Content-Security-Policy", PAGE_POLICY if page else API_POLICY)
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("X-Frame-Options", "DENY")
        resp.set_header("Referrer-Policy", "no-referrer")
        if self.cors:
            resp.append_header("Vary", "Origin")


class ErrorLogMiddleware:
    """Logs every 5xx answer with its request id (exceptions behind it are logged where they are handled)."""

    async def process_response(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: object,
                               req_succeeded: bool) -> None:
        if resp.status_code >= 500:
            logger.error("{} {} answered {} (request {})", req.method, req.path, resp.status_code,
                         getattr(req.context, "request_id", ""))
