"""Who runs a run: the process (host, pid, start time) an embedded System records in `run.started`.

A System that opens a store fails the runs this host's dead processes left `running` or
`queued`: the pid alone could have been reused, the pid with its start time cannot.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
        return cls(socket.gethostname(), pid, _start_time(pid))

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
        import psutil

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


def _start_time(pid: int) -> float:
    """When process `pid` started, in epoch seconds, as psutil's `Process.create_time` computes it.

    PERF: on Linux read from /proc as psutil does (boot time plus the start tick), so a System
    start does not import psutil (10-20 ms); elsewhere psutil itself.
    """
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
            with open("/proc/stat", "rb") as system:
                boot = next(float(line.split()[1]) for line in system if line.startswith(b"btime"))
            return float(fields[19]) / os.sysconf("SC_CLK_TCK") + boot
        except (OSError, StopIteration, IndexError, ValueError):
            pass
    import psutil

    return psutil.Process(pid).create_time()
