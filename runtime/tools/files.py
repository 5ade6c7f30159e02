"""File tools confined to the tool sandbox: file_system (17 operations), tmpdir, archive, log_viewer."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools._kit import op_tool, require
from agentstage.runtime.tools.archive import archive_tool
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.limits import bounded
from agentstage.runtime.tools.paths import MAX_READ, read_text, sandbox_files, sandbox_path
from agentstage.runtime.tools.patterns import compile_pattern
from agentstage.runtime.tools.registry import Tool

__all__ = ["file_tools"]

MAX_LIST = 1000
MAX_FILE = 64 * 1024 * 1024
"""Bytes a file may reach by appends."""
MAX_LOG = 16 * 1024 * 1024
"""Bytes of a log file log_viewer reads: the first (head) or the last (tail, grep)."""


class _FileSystem:
    """file_system operations; every path goes through `sandbox_path`."""

    def __init__(self, context: ToolContext) -> None:
        self.context = context

    def path(self, a: dict[str, Any], key: str = "path", must_exist: bool = False) -> Path:
        return sandbox_path(self.context, "file_system", require("file_system", a, key)[0], must_exist=must_exist)

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.context.sandbox)) if path != self.context.sandbox else "."

    def operations(self) -> dict[str, Any]:
        return {name: getattr(self, "op_" + name) for name in (
            "read", "write", "append", "list", "info", "exists", "mkdir", "copy", "move", "search", "delete",
            "rename", "chmod", "head", "tail", "grep", "symlink")}

    def op_read(self, a: dict[str, Any]) -> dict[str, Any]:
        return {"path": a["path"], "content": read_text("file_system", self.path(a, must_exist=True))}

    def op_write(self, a: dict[str, Any], mode: str = "w") -> dict[str, Any]:
        content = bounded("file_system", "content", a.get("content") or "", MAX_READ)
        path = self.path(a)
        if mode == "a" and path.exists() and path.stat().st_size + len(content) > MAX_FILE:
            raise ToolError("file_system", f"{self.rel(path)} would grow past {MAX_FILE} bytes")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open(mode) as handle:
            handle.write(content)
        return {"path": self.rel(path), "bytes": path.stat().st_size}

    def op_append(self, a: dict[str, Any]) -> dict[str, Any]:
        return self.op_write(a, "a")

    def op_list(self, a: dict[str, Any]) -> dict[str, Any]:
        path = sandbox_path(self.context, "file_system", a.get("path") or ".", must_exist=True)
        entries = sorted(path.iterdir())[:MAX_LIST]
        return {"path": self.rel(path), "entries": [
            {"name": e.name, "type": "symlink" if e.is_symlink() else "dir" if e.is_dir() else "file",
             "size": e.lstat().st_size if e.is_file() and not e.is_symlink() else None}
            for e in entries]}

    def op_info(self, a: dict[str, Any]) -> dict[str, Any]:
        path = self.path(a, must_exist=True)
        stat = path.lstat()
        return {"path": self.rel(path), "type": "symlink" if path.is_symlink() else "dir" if path.is_dir() else "file",
                "size": stat.st_size, "mode": oct(stat.st_mode & 0o777), "modified": stat.st_mtime}

    def op_exists(self, a: dict[str, Any]) -> dict[str, Any]:
        return {"path": a["path"], "exists": self.path(a).exists()}

    def op_mkdir(self, a: dict[str, Any]) -> dict[str, Any]:
        path = self.path(a)
        path.mkdir(parents=True, exist_ok=True)
        return {"path": self.rel(path), "created": True}

    def op_copy(self, a: dict[str, Any]) -> dict[str, Any]:
        source, target = self.path(a, must_exist=True), self.path(a, "destination")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            list(sandbox_files(self.context, "file_system", source, strict=True))
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copy2(source, target)
        return {"from": self.rel(source), "to": self.rel(target)}

    def op_move(self, a: dict[str, Any]) -> dict[str, Any]:
        source, target = self.path(a, must_exist=True), self.path(a, "destination")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        return {"from": self.rel(source), "to": self.rel(target)}

    def op_rename(self, a: dict[str, Any]) -> dict[str, Any]:
        return self.op_move(a)

    def op_search(self, a: dict[str, Any]) -> dict[str, Any]:
        root = sandbox_path(self.context, "file_system", a.get("path") or ".", must_exist=True)
        pattern = require("file_system", a, "pattern")[0]
        found = [self.rel(f) for f in sandbox_files(self.context, "file_system", root) if fnmatch.fnmatch(f.name, pattern)]
        return {"matches": found[:MAX_LIST], "truncated": len(found) > MAX_LIST}

    def op_delete(self, a: dict[str, Any]) -> dict[str, Any]:
        path = self.path(a, must_exist=True)
        if path == self.context.sandbox:
            raise ToolError("file_system", "refusing to delete the sandbox root")
        if path.is_dir() and not path.is_symlink():
            if any(path.iterdir()) and not a.get("recursive"):
                raise ToolError("file_system", f"{self.rel(path)} is a non-empty directory; pass recursive=true")
            shutil.rmtree(path)
        else:
            path.unlink()
        return {"path": self.rel(path), "deleted": True}

    def op_chmod(self, a: dict[str, Any]) -> dict[str, Any]:
        mode = require("file_system", a, "mode")[0]
        if not re.fullmatch(r"[0-7]{3}", mode) or mode == "777":
            raise ToolError("file_system", f"mode {mode!r} refused: use three octal digits, never 777")
        path = self.path(a, must_exist=True)
        path.chmod(int(mode, 8))
        return {"path": self.rel(path), "mode": mode}

    def op_head(self, a: dict[str, Any]) -> dict[str, Any]:
        lines = read_text("file_system", self.path(a, must_exist=True)).splitlines()
        return {"lines": lines[: int(a.get("lines") or 10)]}

    def op_tail(self, a: dict[str, Any]) -> dict[str, Any]:
        lines = read_text("file_system", self.path(a, must_exist=True)).splitlines()
        count = int(a.get("lines") or 10)
        return {"lines": lines[-count:] if count else []}

    def op_grep(self, a: dict[str, Any]) -> dict[str, Any]:
        pattern = compile_pattern("file_system", require("file_system", a, "pattern")[0])
        lines = read_text("file_system", self.path(a, must_exist=True)).splitlines()
        return {"matches": [{"line": n, "text": t} for n, t in enumerate(lines, 1) if pattern.search(t)][:MAX_LIST]}

    def op_symlink(self, a: dict[str, Any]) -> dict[str, Any]:
        target, link = self.path(a, must_exist=True), self.path(a, "destination")
        link.symlink_to(target)
        return {"link": self.rel(link), "target": self.rel(target)}


def _tmpdir(context: ToolContext) -> dict[str, Any]:
    base = context.sandbox / "tmp"

    def directory(a: dict[str, Any]) -> Path:
        name = require("tmpdir", a, "dir")[0]
        path = sandbox_path(context, "tmpdir", f"tmp/{name}", must_exist=True)
        if path.parent != base:
            raise ToolError("tmpdir", f"{name!r} is not a temporary directory")
        return path

    def create(a: dict[str, Any]) -> dict[str, Any]:
        base.mkdir(parents=True, exist_ok=True)
        return {"dir": Path(tempfile.mkdtemp(prefix=a.get("prefix") or "tmp-", dir=base)).name}

    def file(a: dict[str, Any]) -> Path:
        path = sandbox_path(context, "tmpdir", str(directory(a) / require("tmpdir", a, "name")[0]))
        if directory(a) not in path.parents:
            raise ToolError("tmpdir", "file name escapes its directory")
        return path

    def write(a: dict[str, Any]) -> dict[str, Any]:
        path = file(a)
        path.write_text(bounded("tmpdir", "content", a.get("content") or "", MAX_READ))
        return {"dir": a["dir"], "name": a["name"], "bytes": path.stat().st_size}

    return {
        "create": create,
        "cleanup": lambda a: (shutil.rmtree(directory(a)), {"dir": a["dir"], "removed": True})[1],
        "list": lambda a: {"dirs": sorted(p.name for p in base.iterdir())} if "dir" not in a
        else {"files": sorted(p.name for p in directory(a).iterdir())},
        "write_file": write,
        "read_file": lambda a: {"content": read_text("tmpdir", file(a))},
    }


def _log_viewer(context: ToolContext) -> dict[str, Any]:
    def lines(a: dict[str, Any]) -> int:
        return min(int(a.get("lines") or 50), 5000)

    def window(a: dict[str, Any], end: bool) -> tuple[list[str], bool]:
        """Lines of the first (or last) MAX_LOG bytes of the file, and whether the file is longer."""
        path = sandbox_path(context, "log_viewer", require("log_viewer", a, "path")[0], must_exist=True)
        if not path.is_file():
            raise ToolError("log_viewer", f"{path.name} is not a file")
        size = path.stat().st_size
        with path.open("rb") as handle:
            if end and size > MAX_LOG:
                handle.seek(size - MAX_LOG)
            data = handle.read(MAX_LOG).decode(errors="replace")
        found = data.splitlines()
        if size > MAX_LOG and found:
            found = found[1:] if end else found[:-1]
        return found, size > MAX_LOG

    def tail(a: dict[str, Any]) -> dict[str, Any]:
        found, cut = window(a, end=True)
        return {"lines": found[-lines(a):], "truncated": cut}

    def head(a: dict[str, Any]) -> dict[str, Any]:
        found, cut = window(a, end=False)
        return {"lines": found[:lines(a)], "truncated": cut}

    def grep(a: dict[str, Any]) -> dict[str, Any]:
        pattern = compile_pattern("log_viewer", require("log_viewer", a, "pattern")[0])
        found, cut = window(a, end=True)
        hits = [{"line": n, "text": t} for n, t in enumerate(found, 1) if pattern.search(t)]
        return {"matches": hits[-lines(a):], "truncated": cut}

    def journal(a: dict[str, Any]) -> dict[str, Any]:
        if shutil.which("journalctl") is None:
            raise ToolError("log_viewer", "journalctl is not available on this host")
        argv = ["journalctl", "--no-pager", "-n", str(lines(a))] + (["-u", a["unit"]] if a.get("unit") else [])
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if done.returncode:
            raise ToolError("log_viewer", f"journalctl failed: {done.stderr.strip()[:300]}")
        return {"lines": done.stdout[-MAX_LOG:].splitlines()}

    return {"tail": tail, "head": head, "grep": grep, "journalctl": journal}


def file_tools(context: ToolContext) -> list[Tool]:
    """Fresh instances of the file tools bound to `context`'s sandbox."""
    s = {"type": "string"}
    lines = {"type": "integer", "minimum": 0}
    return [
        op_tool("file_system", f"Files under the tool sandbox: read, write, append, list, info, exists, mkdir, copy, "
                "move, search, delete, rename, chmod, head, tail, grep, symlink. Paths are relative to the sandbox.",
                _FileSystem(context).operations(),
                {"path": s, "destination": s, "content": s, "pattern": s, "mode": s, "lines": lines,
                 "recursive": {"type": "boolean"}}, side_effects=True),
        op_tool("tmpdir", "Temporary directories in the sandbox: create, cleanup, list, write_file, read_file.",
                _tmpdir(context), {"dir": s, "name": s, "content": s, "prefix": {"type": "string",
                                                                              "pattern": "^[A-Za-z0-9_-]{0,20}$"}}),
        archive_tool(context),
        op_tool("log_viewer", "Read log files in the sandbox (tail, head, grep) or the system journal (journalctl).",
                _log_viewer(context), {"path": s, "pattern": s, "lines": lines, "unit": s}),
    ]
