"""What built-in tools may touch: sandbox root, host allow-list, shell switch, session storage.

The System builds one `ToolContext` from its Config and hands it to every tool factory, so
no tool reads settings or state from a process global.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from agentstage.runtime.errors import ToolError

__all__ = ["SessionItems", "ToolContext", "check_host"]

class SessionItems(Protocol):
    """Per-session values kept in the store (memory_store, todo_manager)."""

    def items(self, session_id: str, namespace: str) -> dict[str, tuple[Any, str | None]]:
        """Live values of a session's namespace: key -> (value, expires_at)."""

    def put(self, session_id: str, namespace: str, values: Mapping[str, tuple[Any, str | None] | None]) -> None:
        """Set (value, expires_at) or delete (None) keys atomically; returns once durable."""


@dataclass(frozen=True)
class ToolContext:
    """Limits and services for built-in tools."""

    sandbox: Path = field(default_factory=lambda: Path(".agentstage/sandbox").resolve())
    allow_hosts: tuple[str, ...] = ()
    shell_enabled: bool = False
    http_timeout: float = 30.0
    max_response_bytes: int = 2 * 1024 * 1024
    items: SessionItems | None = None

    @classmethod
    def from_config(cls, config: Any, items: SessionItems | None = None) -> ToolContext:
        """The context described by a `Config` (sandbox, allow-list, shell switch)."""
        sandbox = Path(config.tool_sandbox) if config.tool_sandbox else Path(config.home) / "sandbox"
        hosts = tuple(h.strip().lower() for h in config.tool_allow_hosts.split(",") if h.strip())
        return cls(sandbox.resolve(), hosts, config.tool_shell, items=items)

    @property
    def storage_dir(self) -> Path:
        return self.sandbox / "generated"


def check_host(context: ToolContext, tool: str, url: str) -> str:
    """Return the URL when its host is allowed; raise ToolError otherwise.

    Entries are host names, `*.domain` suffixes or `*` (any public host). Loopback, private
    and link-local addresses pass only when named explicitly, so `*` cannot reach them.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToolError(tool, f"url {url!r} needs an http(s) scheme and a host")
    host = parts.hostname.lower()
    if host in context.allow_hosts:
        return url
    named = any(entry.startswith("*.") and host.endswith(entry[1:]) for entry in context.allow_hosts)
    if (named or "*" in context.allow_hosts) and not _internal(host):
        return url
    raise ToolError(tool, f"host {host!r} is not on the tool allow-list (AGENTSTAGE_TOOL_ALLOW_HOSTS)")


def _internal(host: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_unspecified:
            return True
    return False
