"""Host tools: shell_command (off unless enabled; see shell.py), env_vars, process_manager, disk_usage,
system_info."""

from __future__ import annotations

import os
import platform
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools._kit import op_tool, require
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.paths import sandbox_path
from agentstage.runtime.tools.registry import Tool
from agentstage.runtime.tools.shell import shell_tool

__all__ = ["SENSITIVE_NAME", "host_tools"]

SENSITIVE_NAME = re.compile(r"(?i)(secret|token|passw|pwd|key|credential|auth|private|session|cookie)")


def _visible(name: str, value: str) -> str:
    return "[REDACTED]" if SENSITIVE_NAME.search(name) else value


def _env_set(a: dict[str, Any]) -> dict[str, Any]:
    name, value = require("env_vars", a, "name", "value")
    if SENSITIVE_NAME.search(name):
        raise ToolError("env_vars", f"refusing to set sensitive variable {name!r}")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ToolError("env_vars", f"{name!r} is not a variable name")
    os.environ[name] = str(value)
    return {"name": name, "set": True}


def _env_get(a: dict[str, Any]) -> dict[str, Any]:
    (name,) = require("env_vars", a, "name")
    value = os.environ.get(name)
    return {"name": name, "value": None if value is None else _visible(name, value)}


_ENV = {
    "get": _env_get,
    "list": lambda a: {"variables": {k: _visible(k, v) for k, v in sorted(os.environ.items())}},
    "search": lambda a: {"variables": {k: _visible(k, v) for k, v in sorted(os.environ.items())
                                       if require("env_vars", a, "pattern")[0].lower() in k.lower()}},
    "set": _env_set,
    "check": lambda a: {"present": {n: n in os.environ for n in require("env_vars", a, "names")[0]}},
}


def _processes() -> list[dict[str, Any]]:
    done = subprocess.run(["ps", "-eo", "pid=,ppid=,pcpu=,pmem=,rss=,comm=,args="], capture_output=True, text=True,
                          timeout=15)
    rows = []
    for line in done.stdout.splitlines():
        parts = line.split(None, 6)
        if len(parts) >= 6:
            rows.append({"pid": int(parts[0]), "ppid": int(parts[1]), "cpu": float(parts[2]), "mem": float(parts[3]),
                         "rss_kb": int(parts[4]), "name": parts[5], "command": (parts[6] if len(parts) > 6 else "")[:200]})
    return rows


def _sorted(rows: list[dict[str, Any]], a: dict[str, Any]) -> list[dict[str, Any]]:
    key = a.get("sort_by") or "cpu"
    return sorted(rows, key=lambda r: r[key], reverse=key in ("cpu", "mem"))[: int(a.get("limit") or 20)]


def _process_info(a: dict[str, Any]) -> dict[str, Any]:
    pid = int(require("process_manager", a, "pid")[0])
    for row in _processes():
        if row["pid"] == pid:
            return row
    raise ToolError("process_manager", f"no process with pid {pid}")


_PROCESS = {
    "list": lambda a: {"processes": _sorted(_processes(), a)},
    "top": lambda a: {"processes": _sorted(_processes(), {**a, "limit": a.get("limit") or 10})},
    "find": lambda a: {"processes": _sorted([r for r in _processes() if require("process_manager", a, "name")[0]
                                             in r["name"] or a["name"] in r["command"]], a)},
    "info": _process_info,
}


def _disk(context: ToolContext) -> dict[str, Any]:
    def df(a: dict[str, Any]) -> dict[str, Any]:
        usage = shutil.disk_usage(a.get("path") or "/")
        return {"path": a.get("path") or "/", "total": usage.total, "used": usage.used, "free": usage.free,
                "percent_used": round(usage.used / usage.total * 100, 1) if usage.total else 0}

    def du(a: dict[str, Any]) -> dict[str, Any]:
        root = sandbox_path(context, "disk_usage", a.get("path") or ".", must_exist=True)
        total, files = 0, 0
        for directory, _, names in os.walk(root):
            for name in names:
                path = Path(directory) / name
                if not path.is_symlink():
                    total += path.stat().st_size
                    files += 1
        return {"path": a.get("path") or ".", "bytes": total, "files": files}

    return {"df": df, "du": du}


def _meminfo() -> dict[str, int]:
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return {}
    values = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in lines if line.split()[1:2]}
    return {"total": values.get("MemTotal", 0), "available": values.get("MemAvailable", 0)}


def _uptime() -> float | None:
    try:
        return float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


_SYSTEM = {
    "summary": lambda a: {"hostname": socket.gethostname(), "os": platform.system(), "release": platform.release(),
                          "cpus": os.cpu_count(), "memory": _meminfo(), "uptime_s": _uptime()},
    "cpu": lambda a: {"cpus": os.cpu_count(), "machine": platform.machine(), "load_average": list(os.getloadavg())},
    "memory": lambda a: _meminfo(),
    "os": lambda a: {"system": platform.system(), "release": platform.release(), "version": platform.version(),
                     "python": platform.python_version()},
    "network": lambda a: {"hostname": socket.gethostname(), "interfaces": [n for _, n in socket.if_nameindex()]},
    "uptime": lambda a: {"uptime_s": _uptime()},
}


def host_tools(context: ToolContext) -> list[Tool]:
    """Fresh instances of the host tools bound to `context`."""
    s = {"type": "string"}
    return [
        shell_tool(context),
        op_tool("env_vars", "Environment variables: get, list, search, set, check. Values of sensitive-looking "
                "names are redacted; setting them is refused.", _ENV,
                {"name": s, "value": s, "pattern": s, "names": {"type": "array", "items": s}}),
        op_tool("process_manager", "Processes of this host: list, find (by name), info (by pid), top; sorted by "
                "cpu, mem, pid or name.", _PROCESS,
                {"name": s, "pid": {"type": "integer"}, "limit": {"type": "integer", "minimum": 1, "maximum": 500},
                 "sort_by": {"type": "string", "enum": ["cpu", "mem", "pid", "name"]}}),
        op_tool("disk_usage", "Disk space: df (a filesystem) or du (bytes under a sandbox path).", _disk(context),
                {"path": s}),
        op_tool("system_info", "This host: summary, cpu, memory, os, network, uptime.", _SYSTEM, {}),
    ]
