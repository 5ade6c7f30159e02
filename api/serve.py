"""Serving the API with uvicorn: one process, one event loop, the runtime inside it.

The app is Falcon's ASGI app; blocking store and Redis calls run on the backend's bounded pool,
so open connections and live event streams cost a socket and a coroutine, not a thread. The
socket is bound here first, so a taken port is a one-line error. Timeouts: a request must
arrive whole within `api_header_timeout` (`GuardedH11Protocol`), an idle keep-alive connection
closes after `api_keepalive_timeout`, and past `api_max_connections` uvicorn answers 503.
SIGTERM or Ctrl-C ends live streams at once, lets answers in progress finish (3 s at most),
then stops the runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import signal
import socket
import threading
from collections.abc import Callable, Generator, Iterable
from types import FrameType
from typing import Any

import uvicorn

from agentstage.api.protocol import guarded_protocol
from agentstage.runtime import Config, System

__all__ = ["ApiServer", "ListenError", "listen", "parse_addr", "uvicorn_server"]

_GRACE = 3


def parse_addr(addr: str) -> tuple[str, int]:
    """`host:port` as a pair; raises ValueError naming the problem."""
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {addr!r}")
    return host.strip("[]"), int(port)


class ListenError(Exception):
    """The API's address cannot be listened on (taken, not local, not permitted)."""


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on `host`, `port` (0: a free one); raises ListenError with the reason."""
    addr = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # NOTE: proto IPPROTO_TCP, so asyncio sets TCP_NODELAY on accepted connections (a response's head and body
    # are two writes; with Nagle on, the second waits up to 40 ms for the client's delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {addr}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server with signal handling that ends live streams and does not re-raise the signal."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_exit = on_exit
        self._loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()
        # NOTE: a signal handler may interrupt code holding a lock; end the streams from the loop instead.
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.on_exit)


def uvicorn_server(app: Any, config: Config, front: Any = None) -> _Server:
    """A uvicorn server for `app` (from `create_app`) with the API's timeouts and limits.

    `front` is the ASGI callable uvicorn calls, when something wraps `app` (default: `app`).
    """
    settings = uvicorn.Config(
        front or app, http=guarded_protocol(config.api_header_timeout), ws="none", lifespan="off", interface="asgi3",
        loop="asyncio", log_config=None, access_log=False, server_header=False, proxy_headers=False,
        timeout_keep_alive=config.api_keepalive_timeout, limit_concurrency=config.api_max_connections,
        timeout_graceful_shutdown=_GRACE,
    )
    return _Server(settings, on_exit=app.backend.streams.end_all)


def _raise_open_files(wanted: int) -> None:
    """Lift the soft open-file limit towards `wanted` (never above the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class ApiServer:
    """The API of `agentstage ui-api` / `ui`: a System, the app over it, uvicorn on `config.ui_addr`.

    Args:
        config: settings (address, timeouts, limits, threads, state file, provider...).
        local_admin: loopback requests without a key are admin (`ui --ui-allow-local-admin`).
        login_tokens: one-time admin login tokens (`ui`).
        on_ready: called once the socket listens and the runtime runs.
        distributed: queued run control: runs go to the coordinator and workers on Redis.
    """

    def __init__(self, config: Config, *, local_admin: bool = False, login_tokens: Iterable[str] = (),
                 on_ready: Callable[[], None] | None = None, distributed: bool = False) -> None:
        self.config = config
        self.distributed = distributed
        self.local_admin = local_admin
        self.login_tokens = tuple(login_tokens)
        self.on_ready = on_ready

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT; raises ListenError, or StoreError/ConfigError when the runtime cannot start."""
        from agentstage.api.app import create_app
        from agentstage.runtime.control import run_control

        _raise_open_files(self.config.api_max_connections + 256)
        sock = listen(*parse_addr(self.config.ui_addr))
        try:
            with System(self.config, executes=not self.distributed) as system:
                control = run_control(system, distributed=self.distributed)
                if self.config.scheduler:
                    system.start_scheduler(control)
                app = create_app(system, self.config, local_admin=self.local_admin, login_tokens=self.login_tokens,
                                 control=control)
                server = uvicorn_server(app, self.config)
                if self.on_ready is not None:
                    self.on_ready()
                try:
                    server.run(sockets=[sock])
                finally:
                    app.backend.streams.end_all()
                    control.close()
                app.backend.close()
        finally:
            sock.close()
