"""`agentstage ui-api`, `ui` and `ui-admin`: serve the HTTP API, and manage its API keys.

The API package is imported inside the handlers only, so the runtime never depends on it
at import time.
"""

from __future__ import annotations

import argparse
import re
import sys
from contextlib import closing
from datetime import timedelta
from typing import TYPE_CHECKING

from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.cli.common import (ExitCode, add_config_flags, config_from_args, emit_json, fail,
                                                note_new_state_file)

if TYPE_CHECKING:
    from agentstage.api.serve import ApiServer
    from agentstage.runtime.state.records import AuditEntry

__all__ = ["parse_duration", "register"]

ROLES = ("viewer", "operator", "admin")
_DURATION = re.compile(r"^(\d+)([smhdw]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def register(verbs: argparse._SubParsersAction) -> None:
    api = verbs.add_parser(
        "ui-api", help="serve the HTTP API (production server, API keys required)",
        description="Serve the DevUI HTTP API with uvicorn (one process, one event loop) over the embedded runtime.",
        epilog="example: agentstage ui-api --ui-addr 0.0.0.0:7070",
    )
    add_config_flags(api, "ui_addr", "api_threads", "api_header_timeout", "api_keepalive_timeout",
                     "api_max_connections", "api_streams_per_key", "api_streams_total", "provider", "redis_url",
                     "stream_prefix", "log_level", "log_format")
    api.add_argument("--port", type=int, default=None, help="listen on this port (overrides the port of --ui-addr)")
    api.add_argument("--distributed", action="store_true",
                     help="queued run control: runs start, are steered and run on the coordinator and workers "
                          "(runtime-start/worker-start) over Redis, with queues and a DLQ")
    api.set_defaults(handler=serve_api)

    ui = verbs.add_parser(
        "ui", help="run the runtime and the HTTP API locally, with a one-time admin login link",
        description="Run the embedded runtime and the API in one process and print a local login URL.",
        epilog="example: agentstage ui --ui-open",
    )
    add_config_flags(ui, "ui_addr", "provider", "log_level", "log_format")
    ui.add_argument("--ui-open", action="store_true", help="open the login URL in a browser")
    ui.add_argument("--ui-allow-local-admin", action="store_true",
                    help="let requests from this machine in as admin without a key (off by default)")
    ui.set_defaults(handler=serve_ui)

    admin = verbs.add_parser("ui-admin", help="create, list and revoke API keys",
                             description="Manage the API keys of the HTTP API.")
    actions = admin.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create-key", help="create a key and print it once",
                                epilog="example: agentstage ui-admin create-key --role operator --name ci "
                                       "--expires-in 30d")
    add_config_flags(create)
    create.add_argument("--role", choices=ROLES, default="viewer", help="the key's role (default: viewer)")
    create.add_argument("--name", default="", help="a label to recognise the key")
    create.add_argument("--expires-in", type=parse_duration, default=None, metavar="DURATION",
                        help="lifetime such as 3600, 90m, 12h, 30d, 2w (default: never expires)")
    create.add_argument("--json", action="store_true", help="print {id, role, prefix, secret, ...} as JSON")
    create.set_defaults(handler=create_key)
    listing = actions.add_parser("list-keys", help="keys without their secrets")
    add_config_flags(listing)
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=list_keys)
    revoke = actions.add_parser("revoke-key", help="revoke a key by id",
                                epilog="example: agentstage ui-admin revoke-key ID")
    add_config_flags(revoke)
    revoke.add_argument("key_id")
    revoke.add_argument("--force", action="store_true",
                        help="revoke even the last active admin key (the API then has no admin until one is created)")
    revoke.set_defaults(handler=revoke_key)


def parse_duration(text: str) -> timedelta:
    """`3600`, `90m`, `12h`, `30d`, `2w` as a timedelta (argparse type)."""
    match = _DURATION.match(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"expected a duration such as 3600, 90m, 12h or 30d, got {text!r}")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def serve_api(args: argparse.Namespace) -> int:
    from agentstage.api.serve import ApiServer, parse_addr

    config = config_from_args(args)
    try:
        host, port = parse_addr(config.ui_addr)
        if args.port is not None:
            config = config.replace(ui_addr=f"{host}:{args.port}")
            parse_addr(config.ui_addr)
    except ValueError as exc:
        return fail(f"--ui-addr/--port: {exc}", ExitCode.USAGE)

    host, port = parse_addr(config.ui_addr)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"

    def ready() -> None:
        note_new_state_file(args)
        print(f"agentstage: API on {base}/api/v1, web page at {base}/ui/ (API keys required; "
              "create one with: agentstage ui-admin create-key --role admin)", file=sys.stderr, flush=True)

    return _serve(ApiServer(config, distributed=args.distributed, on_ready=ready))


def serve_ui(args: argparse.Namespace) -> int:
    import secrets
    import webbrowser

    from agentstage.api.serve import ApiServer, parse_addr

    config = config_from_args(args)
    try:
        host, port = parse_addr(config.ui_addr)
    except ValueError as exc:
        return fail(f"--ui-addr: {exc}", ExitCode.USAGE)
    token = secrets.token_urlsafe(24)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/ui/#login={token}"
    if args.ui_allow_local_admin:
        print("agentstage: WARNING: requests from this machine are admin without an API key "
              "(--ui-allow-local-admin)", file=sys.stderr)

    def ready() -> None:
        note_new_state_file(args)
        print(f"agentstage: DevUI at {url}\n  (one-time login link; the page exchanges it at POST /api/v1/auth/login"
              " for a 12-hour admin key)", file=sys.stderr, flush=True)
        if args.ui_open and not webbrowser.open(url):
            print("agentstage: --ui-open found no browser to start here; open the link above yourself",
                  file=sys.stderr, flush=True)

    return _serve(ApiServer(config, local_admin=args.ui_allow_local_admin, login_tokens=[token], on_ready=ready))


def _serve(server: ApiServer) -> int:
    """Run `server` until SIGTERM/Ctrl-C, logging to stderr; a taken or unusable address is a one-line error
    (exit 3)."""
    from agentstage.api.serve import ListenError
    from agentstage.runtime.logs import configure_logging

    configure_logging(server.config.log_level, log_format=server.config.log_format)
    try:
        server.run()
    except ListenError as exc:
        return fail(str(exc), ExitCode.UNAVAILABLE)
    return ExitCode.OK


def _cli_audit(action: str, target: str, detail: dict) -> AuditEntry:
    from agentstage.runtime.state.records import AuditEntry

    return AuditEntry(id=new_id(), ts=utc_now(), action=action, outcome="ok", key_id=None, role="cli",
                      target=target, client="cli", detail=detail)


def create_key(args: argparse.Namespace) -> int:
    from agentstage.api.auth import new_api_key
    from agentstage.runtime.state.sqlite import SQLiteWriter

    config = config_from_args(args)
    record, secret = new_api_key(args.role, args.name, args.expires_in)
    writer = SQLiteWriter(config.state_path, busy_timeout_ms=config.busy_timeout_ms)
    try:
        writer.write([record, _cli_audit("auth.key.create", record.id, {"role": record.role, "name": record.name})])
    finally:
        writer.close()
    if args.json:
        emit_json({"id": record.id, "role": record.role, "name": record.name, "prefix": record.prefix,
                   "expires_at": record.expires_at, "secret": secret})
    else:
        print(secret)
        print(f"agentstage: key {record.id} ({record.role}) created; it is shown only now", file=sys.stderr)
    return ExitCode.OK


def list_keys(args: argparse.Namespace) -> int:
    from agentstage.runtime.state.admin import AdminReader

    config = config_from_args(args)
    keys = []
    if config.state_path.exists():
        with closing(AdminReader(config.state_path)) as reader:
            keys = reader.api_keys()
    rows = [{"id": k.id, "prefix": k.prefix, "role": k.role, "name": k.name, "created_at": k.created_at,
             "expires_at": k.expires_at, "revoked_at": k.revoked_at, "last_used_at": k.last_used_at} for k in keys]
    if args.json:
        emit_json(rows)
        return ExitCode.OK
    if not rows:
        print("no API keys yet")
        return ExitCode.OK
    now = utc_now()
    print(f"{'ID':<32}  {'PREFIX':<12}  {'ROLE':<8}  {'STATE':<8}  {'EXPIRES':<20}  {'NAME'}")
    for row in rows:
        expires = row["expires_at"]
        state = "revoked" if row["revoked_at"] else "expired" if expires and expires <= now else "active"
        shown = f"{expires[:16].replace('T', ' ')} UTC" if expires else "never"
        print(f"{row['id']:<32}  {row['prefix']:<12}  {row['role']:<8}  {state:<8}  {shown:<20}  {row['name']}")
    return ExitCode.OK


def revoke_key(args: argparse.Namespace) -> int:
    from agentstage.api.auth import last_active_admin
    from agentstage.runtime.state.admin import AdminReader
    from agentstage.runtime.state.records import ApiKey
    from agentstage.runtime.state.sqlite import SQLiteWriter

    config = config_from_args(args)
    if not config.state_path.exists():
        return fail(f"unknown api key: {args.key_id}", ExitCode.USAGE)

    with closing(AdminReader(config.state_path)) as reader:
        key = reader.api_key(args.key_id)
        if last_active_admin(key, reader.api_keys()) and not args.force:
            return fail(f"key {key.id} is the last active admin key; create another admin key first "
                        "(ui-admin create-key --role admin) or pass --force", ExitCode.USAGE)
    revoked = ApiKey(key.id, key.prefix, key.key_hash, key.role, key.name, key.created_at, key.expires_at,
                     key.revoked_at or utc_now(), key.last_used_at)
    writer = SQLiteWriter(config.state_path, busy_timeout_ms=config.busy_timeout_ms)
    try:
        writer.write([revoked, _cli_audit("auth.key.revoke", key.id, {"role": key.role})])
    finally:
        writer.close()
    print(f"agentstage: key {key.id} revoked", file=sys.stderr)
    return ExitCode.OK
