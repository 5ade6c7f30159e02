"""Who runs a run: the process (host, pid, start time) an embedded System records in `run.started`.

A System that opens a store fails the runs this host's dead processes left `running` or
`queued`: the pid alone could have been reused, the pid with its start time cannot.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psutil

__all__ = ["RunOwner"]

_START_TOLERANCE_S = 1.0


@dataclass(frozen=True, slots=True)
class RunOwner:
    """One process: `started` is its start time in epoch seconds, as the OS reports it."""

    host: str
    pid: int
    started: float

    @classmethod
    def current(cls) -> RunOwner:
        """This process (computed at each call, so a forked child is itself)."""
        pid = os.getpid()
        return cls(socket.gethostname(), pid, psutil.Process(pid).create_time())

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> RunOwner | None:
        """The owner recorded in an event's data (`data["owner"]`), or None when there is none."""
        raw = (data or {}).get("owner")
        if not isinstance(raw, Mapping):
            return None
        try:
            return cls(str(raw["host"]), int(raw["pid"]), float(raw["started"]))
        except (KeyError, TypeError, ValueError):
            return None

    def to_data(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "started": self.started}

    def is_local(self) -> bool:
        return self.host == socket.gethostname()

    def is_alive(self) -> bool:
        """Whether this process still runs; only meaningful when `is_local()` (another host: assumed alive)."""
        if not self.is_local():
            return True
        try:
            process = psutil.Process(self.pid)
            started, zombie = process.create_time(), process.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
        except psutil.Error:  # NOTE: e.g. AccessDenied: the process exists, so it may still run the run
            return True
        return not zombie and abs(started - self.started) <= _START_TOLERANCE_S

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"
