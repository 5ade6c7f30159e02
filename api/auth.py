"""API keys: making them, checking them, and the middleware that puts the caller on `req.context`.

A key reads `ags_<8 hex>_<secret>`; the first 12 characters are its visible prefix, and only
the SHA-256 of the whole key is stored (the secret has 256 random bits, so no salt is needed).
Keys are accepted in `Authorization: Bearer` or `X-API-Key`, never in a query string.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import falcon
import falcon.asgi

from agentstage.api.backend import Backend, Principal
from agentstage.api.rbac import PUBLIC, allows, required_role
from agentstage.runtime.clock import new_id, parse_ts, utc_now
from agentstage.runtime.state import ApiKey
from agentstage.runtime.state.admin import AdminReader

__all__ = ["AuthMiddleware", "check_key", "hash_key", "is_active", "last_active_admin", "local_admin_refusal",
           "new_api_key"]

_PREFIX_LEN = 12
_TOUCH_EVERY = timedelta(seconds=60)
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


def hash_key(secret: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key(role: str, name: str = "", expires_in: timedelta | None = None) -> tuple[ApiKey, str]:
    """A fresh key record and its secret (shown once, never stored)."""
    secret = f"ags_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
    now = datetime.now(UTC)
    expires_at = _ts(now + expires_in) if expires_in is not None else None
    record = ApiKey(id=new_id(), prefix=secret[:_PREFIX_LEN], key_hash=hash_key(secret), role=role, name=name,
                    created_at=_ts(now), expires_at=expires_at)
    return record, secret


def check_key(reader: AdminReader, secret: str, now: datetime | None = None) -> tuple[ApiKey | None, str]:
    """The key matching `secret` and `""`, or None and why (`invalid`, `expired`, `revoked`)."""
    now = now or datetime.now(UTC)
    candidates = reader.api_keys_with_prefix(secret[:_PREFIX_LEN]) if secret.startswith("ags_") else []
    digest = hash_key(secret)
    found = None
    for candidate in candidates or [None]:
        stored = candidate.key_hash if candidate is not None else _DUMMY_HASH
        if hmac.compare_digest(stored, digest) and candidate is not None:
            found = candidate
    if found is None:
        return None, "invalid"
    if found.revoked_at is not None:
        return None, "revoked"
    if found.expires_at is not None and parse_ts(found.expires_at) <= now:
        return None, "expired"
    return found, ""


def is_active(key: ApiKey, now: datetime | None = None) -> bool:
    """Whether `key` is neither revoked nor expired."""
    now = now or datetime.now(UTC)
    return key.revoked_at is None and (key.expires_at is None or parse_ts(key.expires_at) > now)


def last_active_admin(key: ApiKey, keys: list[ApiKey]) -> bool:
    """Whether `key` is the only active admin key among `keys` (revoking it would lock admins out)."""
    now = datetime.now(UTC)
    if key.role != "admin" or not is_active(key, now):
        return False
    return not any(k.id != key.id and k.role == "admin" and is_active(k, now) for k in keys)


class AuthMiddleware:
    """Authenticates each routed request and enforces the RBAC table (`process_resource`).

    Args:
        backend: readers and the store.
        local_admin: let loopback requests without a key in as admin (`ui --ui-allow-local-admin`).
    """

    def __init__(self, backend: Backend, *, local_admin: bool = False) -> None:
        self.backend = backend
        self.local_admin = local_admin

    async def process_resource(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: object,
                               params: dict) -> None:
        if resource is None or not hasattr(resource, "on_" + req.method.lower()):
            return
        required = required_role(req.method, req.uri_template)
        if required == PUBLIC:
            return
        if "api_key" in req.params:
            req.context.deny_reason = "key in query string"
            raise falcon.HTTPBadRequest(title="API key in the query string",
                                        description="send the key in an Authorization: Bearer or X-API-Key header")
        principal = await self._authenticate(req)
        req.context.principal = principal
        if required is None:
            req.context.deny_reason = "route has no role declaration"
            raise falcon.HTTPForbidden(title="Forbidden", description="this route is not open to any role")
        if not allows(principal.role, required):
            req.context.deny_reason = f"requires {required}"
            raise falcon.HTTPForbidden(title="Forbidden", description=f"insufficient role: requires {required}")

    async def _authenticate(self, req: falcon.asgi.Request) -> Principal:
        secret = _presented_key(req)
        if secret is None:
            refusal = local_admin_refusal(req) if self.local_admin else "off"
            if refusal is None:
                return Principal("local", "admin", "loopback")
            req.context.deny_reason = "missing key" if refusal == "off" else f"missing key, local admin: {refusal}"
            description = "an API key is required" + ("" if refusal == "off" else f" (local admin refused: {refusal})")
            raise falcon.HTTPUnauthorized(title="Unauthorized", description=description,
                                          challenges=['Bearer realm="agentstage"'])
        key, reason, key_id = await self.backend.read(lambda reader: _lookup(reader, secret))
        if key is None:
            req.context.deny_reason = f"{reason} key"
            req.context.key_id = key_id
            raise falcon.HTTPUnauthorized(title="Unauthorized", description=f"the API key is {reason}",
                                          challenges=['Bearer realm="agentstage"'])
        self._touch(key)
        return Principal(key.id, key.role, key.name)

    def _touch(self, key: ApiKey) -> None:
        now = datetime.now(UTC)
        if key.last_used_at is None or parse_ts(key.last_used_at) + _TOUCH_EVERY <= now:
            self.backend.record_async([ApiKey(key.id, key.prefix, key.key_hash, key.role, key.name, key.created_at,
                                              key.expires_at, key.revoked_at, last_used_at=utc_now())])


def _lookup(reader: AdminReader, secret: str) -> tuple[ApiKey | None, str, str | None]:
    """`check_key` plus the id of an expired or revoked key (for the audit row)."""
    key, reason = check_key(reader, secret)
    if key is not None or reason == "invalid":
        return key, reason, None
    candidates = reader.api_keys_with_prefix(secret[:_PREFIX_LEN])
    return None, reason, candidates[0].id if candidates else None


_FORWARDED = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP")


def local_admin_refusal(req: falcon.asgi.Request) -> str | None:
    """Why a keyless request may not be the local admin (`ui --ui-allow-local-admin`), or None when it may.

    It must come from this machine, name this machine in Host (no DNS rebinding), carry no
    forwarded headers (a local reverse proxy would make every client admin) and, when a browser
    sends an Origin, come from the page's own origin (no other site's form or script).
    """
    if not _is_loopback(req.remote_addr):
        return "not from this machine"
    forwarded = next((name for name in _FORWARDED if req.get_header(name) is not None), None)
    if forwarded is not None:
        return f"{forwarded} header present"
    host = req.get_header("Host") or ""
    if not _loopback_name(urlsplit(f"//{host}").hostname):
        return "Host does not name this machine"
    origin = req.get_header("Origin")
    if origin is not None:
        parsed = urlsplit(origin)
        if parsed.scheme not in ("http", "https") or parsed.netloc.lower() != host.lower():
            return "cross-origin request"
    if req.get_header("Sec-Fetch-Site") not in (None, "same-origin", "none"):
        return "cross-site request"
    return None


def _loopback_name(name: str | None) -> bool:
    return name is not None and (name.lower() == "localhost" or _is_loopback(name))


def _presented_key(req: falcon.asgi.Request) -> str | None:
    header = req.get_header("Authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    value = req.get_header("X-API-Key")
    return value.strip() if value and value.strip() else None


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
