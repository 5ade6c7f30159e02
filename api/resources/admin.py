"""Administration: API keys, the audit log, who am I, and the one-time login of `agentstage ui`."""

from __future__ import annotations

from datetime import timedelta

import falcon
import falcon.asgi

from agentstage.api.auth import last_active_admin, new_api_key
from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump, load_body, load_query
from agentstage.api.schemas.admin import (
    ApiKeyCreatedSchema,
    ApiKeyCreateSchema,
    ApiKeySchema,
    AuditPageSchema,
    AuditQuery,
    LoginSchema,
    MeSchema,
)
from agentstage.api.schemas.common import OkSchema, to_ts
from agentstage.runtime.clock import utc_now
from agentstage.runtime.state import ApiKey

__all__ = ["AuditResource", "KeyResource", "KeysResource", "LoginResource", "MeResource"]

LOGIN_KEY_LIFETIME = timedelta(hours=12)


class KeysResource(Resource):
    OPS = {
        "GET": Op("API keys (never their secrets)", "auth", ApiKeySchema, many=True),
        "POST": Op("Create an API key; the secret is in this response only", "auth", ApiKeyCreatedSchema, status=201,
                   body=ApiKeyCreateSchema, errors=(422,)),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, ApiKeySchema, await self.backend.read(lambda reader: reader.api_keys()), many=True)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await load_body(req, ApiKeyCreateSchema)
        expires = timedelta(seconds=body["expires_in"]) if body["expires_in"] is not None else None
        record, secret = new_api_key(body["role"], body["name"], expires)
        await self.backend.commit(req, "auth.key.create", record.id, [record],
                                  {"role": record.role, "name": record.name})
        created = ApiKeySchema().dump(record)
        dump(resp, ApiKeyCreatedSchema, {**created, "secret": secret}, status=201)
        resp.set_header("Cache-Control", "no-store")


class KeyResource(Resource):
    OPS = {"DELETE": Op("Revoke an API key (it stays listed, revoked); never the last active admin key", "auth",
                        OkSchema, errors=(404, 409))}

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, key_id: str) -> None:
        async with self.backend.key_lock:
            key, keys = await self.backend.read(lambda reader: (reader.api_key(key_id), reader.api_keys()))
            if last_active_admin(key, keys):
                raise FieldError(409, title="Conflict", description="the last active admin key cannot be revoked; "
                                 "create another admin key first", errors={"key_id": ["last active admin key"]})
            revoked = ApiKey(key.id, key.prefix, key.key_hash, key.role, key.name, key.created_at, key.expires_at,
                             key.revoked_at or utc_now(), key.last_used_at)
            await self.backend.commit(req, "auth.key.revoke", key.id, [revoked], {"role": key.role})
        dump(resp, OkSchema, {"ok": True})


class AuditResource(Resource):
    OPS = {"GET": Op("Audit log, newest first (filters, keyset pagination)", "auth", AuditPageSchema,
                     query=AuditQuery, errors=(422,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        q = load_query(req, AuditQuery)
        try:
            page = await self.backend.read(lambda reader: reader.audit(
                key_id=q["key_id"], action=q["action"], outcome=q["outcome"], since=to_ts(q["since"]),
                until=to_ts(q["until"]), limit=q["limit"], cursor=q["cursor"]))
        except ValueError:
            raise FieldError(422, title="Invalid request", errors={"cursor": ["malformed cursor"]}) from None
        dump(resp, AuditPageSchema, page)


class MeResource(Resource):
    OPS = {"GET": Op("The calling key's id and role", "auth", MeSchema)}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        principal = req.context.principal
        dump(resp, MeSchema, {"key_id": principal.key_id, "role": principal.role, "name": principal.name})


class LoginResource(Resource):
    OPS = {"POST": Op("Exchange the one-time token of `agentstage ui` for a 12-hour admin key", "auth",
                      ApiKeyCreatedSchema, status=201, body=LoginSchema, errors=(401, 422))}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        token = (await load_body(req, LoginSchema))["token"]
        if not self.backend.consume_login_token(token):
            req.context.deny_reason = "invalid login token"
            raise falcon.HTTPUnauthorized(title="Unauthorized", description="the login token is invalid or used",
                                          challenges=['Bearer realm="agentstage"'])
        record, secret = new_api_key("admin", "ui login", LOGIN_KEY_LIFETIME)
        await self.backend.commit(req, "auth.login", record.id, [record], {"role": "admin"})
        dump(resp, ApiKeyCreatedSchema, {**ApiKeySchema().dump(record), "secret": secret}, status=201)
        resp.set_header("Cache-Control", "no-store")
