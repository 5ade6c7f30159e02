"""The adapters' httpx clients: a sync one, and async ones on aiohttp's transport, one per event loop.

httpx's own async transport serves a few hundred concurrent requests at a fraction of what the
same machine does with aiohttp (encode/httpx#3215; `scripts/bench/bench_providers.py` measures
it), so async clients use `httpx-aiohttp`, the transport the official OpenAI SDK offers as
`DefaultAioHttpClient`. Neither has a pool timeout: with thousands of requests in flight, one
waiting for a pooled connection waits for it instead of failing after a few seconds.
"""

from __future__ import annotations

import asyncio
import threading
import urllib.request
from collections.abc import Mapping

import httpx
from aiohttp import ClientSession, ClientTimeout
from httpx_aiohttp import AiohttpTransport, HttpxAiohttpClient
from httpx_aiohttp.transport import map_aiohttp_exceptions

__all__ = ["DEFAULT_LIMITS", "AsyncClients", "default_async_client", "default_client"]

DEFAULT_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
"""The official SDKs' connection limits; requests beyond `max_connections` queue for a connection."""


def _timeout(timeout: float, connect_timeout: float) -> httpx.Timeout:
    return httpx.Timeout(timeout, connect=connect_timeout, pool=None)


def default_client(timeout: float = 600.0, connect_timeout: float = 5.0,
                   limits: httpx.Limits = DEFAULT_LIMITS) -> httpx.Client:
    """A sync httpx client with the SDKs' defaults: 600 s read, 5 s connect, 1000/100 connection limits."""
    return httpx.Client(timeout=_timeout(timeout, connect_timeout), limits=limits)


def default_async_client(timeout: float = 600.0, connect_timeout: float = 5.0,
                         limits: httpx.Limits = DEFAULT_LIMITS) -> httpx.AsyncClient:
    """An async httpx client on aiohttp's transport with the same timeouts and limits.

    aiohttp keeps every idle connection up to `max_connections` alive for `keepalive_expiry`
    seconds; it has no separate keep-alive count, so `max_keepalive_connections` does not apply.
    """
    return _client_and_transport(timeout, connect_timeout, limits)[0]


class PostTransport(AiohttpTransport):
    """httpx-aiohttp's transport, plus a POST whose answer is read whole, for calls that do not stream.

    PERF: building an `httpx.Request` and draining the answer chunk by chunk through an async
    generator was a fifth of the I/O loop's time at a thousand model calls a second. `post` sends
    the same bytes through the same aiohttp session and hands back an `httpx.Response`, so status
    handling, content decoding and the mapped httpx errors stay those of every other call.
    """

    _timeouts: dict[tuple[float | None, float | None, float | None], ClientTimeout] = {}

    async def post(self, url: str, headers: Mapping[str, str], content: bytes,
                   timeout: httpx.Timeout) -> httpx.Response:
        """POST `content` to `url` and return the response with its body read (and decoded by httpx)."""
        if not isinstance(self.client, ClientSession):
            self.client = self.get_client()
        limits = (timeout.connect, timeout.read, timeout.pool)
        client_timeout = self._timeouts.get(limits)
        if client_timeout is None:
            client_timeout = self._timeouts[limits] = ClientTimeout(sock_connect=limits[0], sock_read=limits[1],
                                                                    connect=limits[2])
        # PERF: the request awaited, not entered, and aiohttp's errors mapped only once one is raised: the context
        # managers' frames stayed allocated for each call in flight
        try:
            answer = await self.client.request("POST", url, headers=headers, data=content, allow_redirects=False,
                                               auto_decompress=False, compress=False, timeout=client_timeout)
            try:
                body = await answer.read()
            finally:
                answer.release()
        except Exception as exc:
            with map_aiohttp_exceptions():
                raise exc
        return httpx.Response(answer.status, headers=answer.raw_headers, content=body)


def _client_and_transport(timeout: float, connect_timeout: float,
                          limits: httpx.Limits) -> tuple[httpx.AsyncClient, PostTransport]:
    transport = PostTransport(limits=limits)
    return HttpxAiohttpClient(timeout=_timeout(timeout, connect_timeout), limits=limits, transport=transport), transport


class AsyncClients:
    """One async client per running event loop, created lazily on that loop (thread-safe).

    A client's connections belong to the loop that opened them, so a provider used from two
    loops (the process's I/O loop, a test's `asyncio.run`) needs one client on each.
    """

    def __init__(self, timeout: float, connect_timeout: float, limits: httpx.Limits) -> None:
        self._args = (timeout, connect_timeout, limits)
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
        self._transports: dict[httpx.AsyncClient, PostTransport] = {}
        self._lock = threading.Lock()
        # NOTE: with a proxy in the environment, requests must go through the client's proxy mounts.
        self.direct = not urllib.request.getproxies()

    def get(self) -> httpx.AsyncClient:
        """The running loop's client; creates it on first use. Call on the loop."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(loop)
            if client is None:
                # NOTE: clients of loops that have closed cannot be closed any more; forget them.
                for gone in [other for other in self._clients if other.is_closed()]:
                    self._transports.pop(self._clients.pop(gone), None)
                client, transport = _client_and_transport(*self._args)
                self._clients[loop], self._transports[client] = client, transport
            return client

    def transport(self, client: httpx.AsyncClient) -> PostTransport | None:
        """The transport `client` sends through when no proxy applies, for callers that build their own requests."""
        return self._transports.get(client) if self.direct else None

    async def aclose(self) -> None:
        """Close the running loop's client, if it made one."""
        with self._lock:
            client = self._clients.pop(asyncio.get_running_loop(), None)
            if client is not None:
                self._transports.pop(client, None)
        if client is not None:
            await client.aclose()
