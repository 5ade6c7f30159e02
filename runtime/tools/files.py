"""File tools confined to the tool sandbox: file_system (17 operations), tmpdir, archive, log_viewer."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from collections import deque
from pathlib import Path
from typing import Any

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools._kit import op_tool, require
from agentstage.runtime.tools.context import ToolContext, sandbox_path
from agentstage.runtime.tools.registry import Tool

__all__ = ["file_tools"]

MAX_READ = 1024 * 1024
MAX_LIST = 1000


def _read_text(tool: str, path: Path) -> str:
    if not path.is_file():
        raise ToolError(tool, f"{path.name} is not a file")
    if path.stat().st_size > MAX_READ:
        raise ToolError(tool, f"{path.name} is larger than {MAX_READ} bytes")
    return path.read_text(errors="replace")


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
        return {"path": a["path"], "content": _read_text("file_system", self.path(a, must_exist=True))}

    def op_write(self, a: dict[str, Any], mode: str = "w") -> dict[str, Any]:
        content = a.get("content") or ""
        if len(content) > MAX_READ:
            raise ToolError("file_system", f"content larger than {MAX_READ} characters")
        path = self.path(a)
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
            {"name": e.name, "type": "dir" if e.is_dir() else "file", "size": e.stat().st_size if e.is_file() else None}
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
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)
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
        found = [self.rel(Path(d) / f) for d, _, files in os.walk(root) for f in files if fnmatch.fnmatch(f, pattern)]
        return {"matches": sorted(found)[:MAX_LIST]}

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
        lines = _read_text("file_system", self.path(a, must_exist=True)).splitlines()
        return {"lines": lines[: int(a.get("lines") or 10)]}

    def op_tail(self, a: dict[str, Any]) -> dict[str, Any]:
        lines = _read_text("file_system", self.path(a, must_exist=True)).splitlines()
        count = int(a.get("lines") or 10)
        return {"lines": lines[-count:] if count else []}

    def op_grep(self, a: dict[str, Any]) -> dict[str, Any]:
        pattern = _compile("file_system", require("file_system", a, "pattern")[0])
        lines = _read_text("file_system", self.path(a, must_exist=True)).splitlines()
        return {"matches": [{"line": n, "text": t} for n, t in enumerate(lines, 1) if pattern.search(t)][:MAX_LIST]}

    def op_symlink(self, a: dict[str, Any]) -> dict[str, Any]:
        target, link = self.path(a, must_exist=True), self.path(a, "destination")
        link.symlink_to(target)
        return {"link": self.rel(link), "target": self.rel(target)}


def _compile(tool: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ToolError(tool, f"invalid pattern {pattern!r}: {exc}") from None


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
        path.write_text(a.get("content") or "")
        return {"dir": a["dir"], "name": a["name"], "bytes": path.stat().st_size}

    return {
        "create": create,
        "cleanup": lambda a: (shutil.rmtree(directory(a)), {"dir": a["dir"], "removed": True})[1],
        "list": lambda a: {"dirs": sorted(p.name for p in base.iterdir())} if "dir" not in a
        else {"files": sorted(p.name for p in directory(a).iterdir())},
        "write_file": write,
        "read_file": lambda a: {"content": _read_text("tmpdir", file(a))},
    }


_ARCHIVE_MODES = {"tar": "", "tar.gz": "gz", "tar.bz2": "bz2", "tar.xz": "xz"}


def _archive(context: ToolContext) -> dict[str, Any]:
    def path(a: dict[str, Any], key: str, must_exist: bool = False) -> Path:
        return sandbox_path(context, "archive", require("archive", a, key)[0], must_exist=must_exist)

    def kind(name: str) -> str:
        for suffix in ("tar.gz", "tar.bz2", "tar.xz", "tar", "zip"):
            if name.endswith("." + suffix) or (suffix == "tar.gz" and name.endswith(".tgz")):
                return suffix
        raise ToolError("archive", f"unknown archive type of {name!r} (tar, tar.gz, tar.bz2, tar.xz, zip)")

    def create(a: dict[str, Any]) -> dict[str, Any]:
        target = path(a, "archive")
        sources = [sandbox_path(context, "archive", s, must_exist=True) for s in require("archive", a, "sources")[0]]
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind(target.name) == "zip":
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
                for source in sources:
                    for file in [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file()):
                        out.write(file, file.relative_to(source.parent))
        else:
            with tarfile.open(target, "w:" + _ARCHIVE_MODES[kind(target.name)]) as out:
                for source in sources:
                    out.add(source, source.name)
        return {"archive": a["archive"], "bytes": target.stat().st_size}

    def names(target: Path) -> list[str]:
        if kind(target.name) == "zip":
            with zipfile.ZipFile(target) as archive:
                return archive.namelist()
        with tarfile.open(target) as archive:
            return archive.getnames()

    def extract(a: dict[str, Any]) -> dict[str, Any]:
        target, dest = path(a, "archive", True), path(a, "destination")
        for name in names(target):
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise ToolError("archive", f"archive member {name!r} would escape the destination")
        dest.mkdir(parents=True, exist_ok=True)
        if kind(target.name) == "zip":
            with zipfile.ZipFile(target) as archive:
                archive.extractall(dest)
        else:
            with tarfile.open(target) as archive:
                archive.extractall(dest, filter="data")
        return {"destination": a["destination"], "files": names(target)}

    return {"create": create, "extract": extract, "list": lambda a: {"files": names(path(a, "archive", True))}}


def _log_viewer(context: ToolContext) -> dict[str, Any]:
    def lines(a: dict[str, Any]) -> int:
        return min(int(a.get("lines") or 50), 5000)

    def tail(a: dict[str, Any]) -> dict[str, Any]:
        path = sandbox_path(context, "log_viewer", require("log_viewer", a, "path")[0], must_exist=True)
        with path.open(errors="replace") as handle:
            return {"lines": [line.rstrip("\n") for line in deque(handle, maxlen=lines(a))]}

    def head(a: dict[str, Any]) -> dict[str, Any]:
        path = sandbox_path(context, "log_viewer", require("log_viewer", a, "path")[0], must_exist=True)
        with path.open(errors="replace") as handle:
            return {"lines": [line.rstrip("\n") for _, line in zip(range(lines(a)), handle)]}

    def grep(a: dict[str, Any]) -> dict[str, Any]:
        path = sandbox_path(context, "log_viewer", require("log_viewer", a, "path")[0], must_exist=True)
        pattern = _compile("log_viewer", require("log_viewer", a, "pattern")[0])
        with path.open(errors="replace") as handle:
            hits = [{"line": n, "text": t.rstrip("\n")} for n, t in enumerate(handle, 1) if pattern.search(t)]
        return {"matches": hits[-lines(a):]}

    def journal(a: dict[str, Any]) -> dict[str, Any]:
        if shutil.which("journalctl") is None:
            raise ToolError("log_viewer", "journalctl is not available on this host")
        argv = ["journalctl", "--no-pager", "-n", str(lines(a))] + (["-u", a["unit"]] if a.get("unit") else [])
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if done.returncode:
            raise ToolError("log_viewer", f"journalctl failed: {done.stderr.strip()[:300]}")
        return {"lines": done.stdout.splitlines()}

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
        op_tool("archive", "Create, extract or list tar, tar.gz, tar.bz2, tar.xz and zip archives in the sandbox.",
                _archive(context), {"archive": s, "sources": {"type": "array", "items": s}, "destination": s},
                ("archive",), side_effects=True),
        op_tool("log_viewer", "Read log files in the sandbox (tail, head, grep) or the system journal (journalctl).",
                _log_viewer(context), {"path": s, "pattern": s, "lines": lines, "unit": s}),
    ]
