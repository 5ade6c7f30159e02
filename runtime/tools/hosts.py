"""Which hosts the network tools may reach, decided on the address that is then connected to.

Allow-list entries (AGENTSTAGE_TOOL_ALLOW_HOSTS): a host name or address, optionally with a port
(`api.example.com`, `db.internal:5432`, `127.0.0.1:8080`, `[::1]:9000`), `*.domain` (names under
it) or `*` (any host). A host named exactly may resolve to any address; under `*` or `*.domain`
every address the name resolves to must be public (see `is_public`). A name is resolved once, and
`pinned.PinnedTransport` connects to the address that passed, so a rebinding DNS answer cannot switch it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from agentstage.runtime.errors import ToolError

__all__ = ["HostPolicy", "is_public"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NON_PUBLIC = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4",
    "::/96", "::ffff:0:0/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16",
    "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")


def is_public(ip: IPAddress) -> bool:
    """Whether `ip` is a globally reachable unicast address.

    Refused: loopback, private, link-local, CGNAT (100.64/10), multicast, reserved, documentation,
    benchmarking, unspecified, site-local (fec0::/10), unique-local (fc00::/7), IPv4-compatible
    (::/96) and Teredo; IPv4-mapped, NAT64 and 6to4 addresses are judged by the IPv4 address inside.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public(ip.ipv4_mapped)
        if ip in _NAT64:
            return is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip in _SIXTOFOUR:
            return ip.sixtofour is not None and is_public(ip.sixtofour)
    if any(ip in net for net in _NON_PUBLIC if net.version == ip.version):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


@dataclass(frozen=True)
class _Entry:
    host: str
    port: int | None


def _address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


def _entry(text: str) -> _Entry:
    text = text.strip().lower().rstrip(".")
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return _Entry(host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None)
    if text.count(":") == 1:
        host, port = text.split(":")
        if port.isdigit():
            return _Entry(host, int(port))
    return _Entry(text, None)


class HostPolicy:
    """The allow-list of one ToolContext; `resolve` is the single place a host is judged."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = tuple(_entry(e) for e in entries if e.strip())

    def _rule(self, host: str, port: int | None) -> str | None:
        """'named' when an exact entry matches, 'public' when a wildcard does, None otherwise."""
        address = _address(host)
        canonical = str(address) if address is not None else host
        for entry in self.entries:
            if entry.port is not None and entry.port != port:
                continue
            named = _address(entry.host)
            if (str(named) if named is not None else entry.host) == canonical:
                return "named"
        for entry in self.entries:
            if entry.port is not None and entry.port != port:
                continue
            if entry.host == "*" or (entry.host.startswith("*.") and address is None
                                     and host.endswith(entry.host[1:])):
                return "public"
        return None

    def check_name(self, tool: str, host: str, port: int | None = None) -> str:
        """The rule `host` falls under (no resolution); ToolError when no entry allows it."""
        host = host.lower().rstrip(".")
        rule = self._rule(host, port)
        if rule is None:
            where = f"{host}:{port}" if port is not None else host
            raise ToolError(tool, f"host {where!r} is not on the tool allow-list (AGENTSTAGE_TOOL_ALLOW_HOSTS)")
        return rule

    def resolve(self, tool: str, host: str, port: int) -> list[str]:
        """The addresses of an allowed `host` that may be connected to on `port`, resolved once.

        Raises ToolError when no entry allows the host and port, when the name does not resolve
        (a failed lookup is refused), or when a wildcard entry allows it and an address is not public.
        """
        host = host.lower().rstrip(".")
        rule = self.check_name(tool, host, port)
        literal = _address(host)
        if literal is not None:
            found = [literal]
        else:
            try:
                infos = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM)
            except (OSError, UnicodeError):
                raise ToolError(tool, f"host {host!r} does not resolve; refused") from None
            found = list(dict.fromkeys(ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos))
        if not found:
            raise ToolError(tool, f"host {host!r} does not resolve; refused")
        if rule == "public":
            blocked = [str(ip) for ip in found if not is_public(ip)]
            if blocked:
                raise ToolError(tool, f"host {host!r} resolves to non-public address {blocked[0]}; only hosts "
                                      "named in AGENTSTAGE_TOOL_ALLOW_HOSTS may")
        return [str(ip) for ip in found]

    def connect(self, tool: str, host: str, port: int, timeout: float | None) -> socket.socket:
        """A TCP connection to the first reachable checked address of `host`."""
        error: OSError | None = None
        for address in self.resolve(tool, host, port):
            try:
                return socket.create_connection((address, port), timeout=timeout)
            except OSError as exc:
                error = exc
        raise error or OSError(f"cannot connect to {host}")
