"""Serving the API with gunicorn: one worker process with threads (gthread), the runtime inside it.

One worker, because the runtime's live event subscriptions (SSE) live in the process that runs
the System; threads, because each open event stream holds one while it waits. gthread keeps
the worker's heartbeat to the arbiter independent of long streams (sync workers die at 30 s).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

import falcon
from gunicorn.app.base import BaseApplication

from agentstage.runtime import Config, System
from agentstage.runtime.errors import AgentstageError

__all__ = ["ApiServer", "parse_addr"]


def parse_addr(addr: str) -> tuple[str, int]:
    """`host:port` as a pair; raises ValueError naming the problem."""
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {addr!r}")
    return host.strip("[]"), int(port)


class ApiServer(BaseApplication):
    """gunicorn serving `create_app` over a System started in the worker process.

    Args:
        config: settings (address, threads, state file, provider...).
        local_admin: loopback requests without a key are admin (`ui --ui-allow-local-admin`).
        login_tokens: one-time admin login tokens (`ui`).
        on_ready: called in the arbiter once the socket listens.
        distributed: enqueue runs on the Redis runtime and serve its operations routes.
    """

    def __init__(self, config: Config, *, local_admin: bool = False, login_tokens: Iterable[str] = (),
                 on_ready: Callable[[], None] | None = None, distributed: bool = False) -> None:
        self.config_ = config
        self.distributed = distributed
        self.local_admin = local_admin
        self.login_tokens = tuple(login_tokens)
        self.on_ready = on_ready
        self.system: System | None = None
        super().__init__()

    def load_config(self) -> None:
        host, port = parse_addr(self.config_.ui_addr)
        settings: dict[str, Any] = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": max(2, self.config_.api_threads),
            "graceful_timeout": 5,
            "keepalive": 5,
            "control_socket_disable": True,
            "errorlog": "-",
            "loglevel": self.config_.log_level.lower(),
            "worker_exit": self._worker_exit,
            "when_ready": lambda server: self.on_ready() if self.on_ready else None,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> falcon.App:
        from agentstage.api.app import create_app
        from agentstage.runtime.distributed.ops import RuntimeOps

        try:
            self.system = System(self.config_).start()
        except AgentstageError as exc:
            print(f"agentstage: {exc}", file=sys.stderr, flush=True)
            # NOTE: exit status 3 is gunicorn's "worker failed to boot": the arbiter stops, no restart loop.
            sys.exit(3)
        ops = RuntimeOps(self.config_) if self.distributed else None
        return create_app(self.system, self.config_, local_admin=self.local_admin, login_tokens=self.login_tokens,
                          ops=ops)

    def _worker_exit(self, server: Any, worker: Any) -> None:
        if self.system is not None:
            self.system.stop()
            self.system = None
