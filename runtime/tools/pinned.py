"""An httpx transport pinned to the addresses a `HostPolicy` allowed (kept apart so the policy needs no httpx)."""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from agentstage.runtime.tools.hosts import HostPolicy

__all__ = ["PinnedTransport"]


class _PinnedBackend(httpcore.SyncBackend):
    """Every connection httpcore opens (redirect hops included) goes through `HostPolicy.resolve`."""

    def __init__(self, policy: HostPolicy, tool: str) -> None:
        self.policy = policy
        self.tool = tool

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        error: Exception | None = None
        for address in self.policy.resolve(self.tool, host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"cannot connect to {host}")

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not reachable from tools")


class PinnedTransport(httpx.HTTPTransport):
    """An httpx transport that connects only to addresses `policy` allowed, keeping Host and TLS SNI.

    The host name stays in the request, so the Host header, SNI and certificate checks use the
    name, while the TCP connection goes to the address that was checked.
    """

    def __init__(self, policy: HostPolicy, tool: str, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # NOTE: httpx exposes no network backend option; the pool is rebuilt with one (same settings).
        self._pool = httpcore.ConnectionPool(ssl_context=ssl_context, max_connections=10,
                                             max_keepalive_connections=5, network_backend=_PinnedBackend(policy, tool))
