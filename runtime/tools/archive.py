"""The archive tool: create, list and extract tar (plain, gz, bz2, xz) and zip archives in the sandbox.

Extraction never hands an archive to `extractall`: each member is checked by this module (its
resolved target inside the destination, links included; sym- and hard links must point inside),
and member count, declared sizes and bytes actually written are bounded, so neither a crafted
archive nor a zip bomb reaches outside the sandbox or fills the disk. tarfile and zipfile load when
the tool opens an archive, not when the built-in tools are built.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools._kit import op_tool, require
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.paths import inside, sandbox_files, sandbox_path
from agentstage.runtime.tools.registry import Tool

if TYPE_CHECKING:
    import tarfile
    import zipfile

__all__ = ["MAX_MEMBERS", "MAX_TOTAL", "archive_tool"]

MAX_MEMBERS = 10_000
"""Members one archive may hold (listed, extracted or created)."""
MAX_TOTAL = 256 * 1024 * 1024
"""Bytes one extraction may write, and bytes of files one archive may be created from."""
_CHUNK = 1024 * 1024
_MODES = {"tar": "", "tar.gz": "gz", "tar.bz2": "bz2", "tar.xz": "xz"}
_TOOL = "archive"


@dataclass(frozen=True)
class _Member:
    """One archive entry, whatever the format: kind is file, dir, symlink or hardlink."""

    name: str
    kind: str
    size: int
    link: str
    mode: int
    open: Callable[[], IO[bytes]]


def _kind(name: str) -> str:
    for suffix in ("tar.gz", "tar.bz2", "tar.xz", "tar", "zip"):
        if name.endswith("." + suffix) or (suffix == "tar.gz" and name.endswith(".tgz")):
            return suffix
    raise ToolError(_TOOL, f"unknown archive type of {name!r} (tar, tar.gz, tar.bz2, tar.xz, zip)")


def _tar_members(archive: tarfile.TarFile) -> Iterator[_Member]:
    while (info := archive.next()) is not None:
        kind = ("file" if info.isreg() else "dir" if info.isdir() else "symlink" if info.issym()
                else "hardlink" if info.islnk() else "")
        if not kind:
            raise ToolError(_TOOL, f"archive member {info.name!r} is a device, fifo or other special file")
        yield _Member(info.name, kind, info.size, info.linkname, info.mode,
                      lambda info=info: archive.extractfile(info) or _refuse(info.name))


def _zip_members(archive: zipfile.ZipFile) -> Iterator[_Member]:
    for info in archive.infolist():
        mode = info.external_attr >> 16
        kind = "symlink" if stat.S_ISLNK(mode) else "dir" if info.is_dir() else "file"
        link = _link_text(archive, info) if kind == "symlink" else ""
        yield _Member(info.filename, kind, info.file_size, link, mode & 0o777 or 0o644,
                      lambda info=info: archive.open(info))


def _link_text(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    with archive.open(info) as data:
        return data.read(4096).decode(errors="replace")


def _refuse(name: str) -> IO[bytes]:
    raise ToolError(_TOOL, f"archive member {name!r} has no data")


def _opened(path: Path) -> Any:
    import tarfile
    import zipfile

    try:
        return zipfile.ZipFile(path) if _kind(path.name) == "zip" else tarfile.open(path)
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ToolError(_TOOL, f"{path.name} is not a readable archive: {exc}") from None


def _members(archive: Any) -> Iterator[_Member]:
    """Members in archive order, refusing the one past MAX_MEMBERS before reading further."""
    import zipfile

    source = _zip_members(archive) if isinstance(archive, zipfile.ZipFile) else _tar_members(archive)
    if isinstance(archive, zipfile.ZipFile) and len(archive.infolist()) > MAX_MEMBERS:
        raise ToolError(_TOOL, f"archive holds more than {MAX_MEMBERS} members")
    for count, member in enumerate(source, 1):
        if count > MAX_MEMBERS:
            raise ToolError(_TOOL, f"archive holds more than {MAX_MEMBERS} members")
        yield member


def _relative(name: str) -> PurePosixPath:
    """The member name as a relative path; absolute names, drive letters and `..` are refused."""
    path = PurePosixPath(name.replace("\\", "/"))
    if not name or path.is_absolute() or ".." in path.parts or ":" in path.parts[0] or "\0" in name:
        raise ToolError(_TOOL, f"archive member {name!r} would escape the destination")
    return path


def _target(dest: Path, name: str) -> Path:
    """Where member `name` lands: resolved (existing links in the way followed) and inside `dest`."""
    target = (dest / _relative(name)).resolve()
    if not inside(dest, target):
        raise ToolError(_TOOL, f"archive member {name!r} would escape the destination")
    return target


def _extract(archive: Any, dest: Path) -> list[str]:
    written, names = 0, []
    for member in _members(archive):
        names.append(member.name)
        if member.kind != "dir" and (member.size < 0 or written + member.size > MAX_TOTAL):
            raise ToolError(_TOOL, f"archive expands past {MAX_TOTAL} bytes (member {member.name!r})")
        target = _target(dest, member.name)
        if member.kind == "dir":
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and not target.is_symlink():
            raise ToolError(_TOOL, f"archive member {member.name!r} would replace a directory")
        if target.exists() or target.is_symlink():
            target.unlink()
        if member.kind == "symlink":
            link = PurePosixPath(member.link)
            if not member.link or link.is_absolute() or not inside(dest, (target.parent / link).resolve()):
                raise ToolError(_TOOL, f"archive member {member.name!r} links outside the destination")
            target.symlink_to(link)
        elif member.kind == "hardlink":
            source = _target(dest, member.link)
            if not source.is_file():
                raise ToolError(_TOOL, f"archive member {member.name!r} links to {member.link!r}, not an "
                                       "extracted file")
            written += source.stat().st_size
            if written > MAX_TOTAL:
                raise ToolError(_TOOL, f"archive expands past {MAX_TOTAL} bytes (member {member.name!r})")
            shutil.copyfile(source, target)
        else:
            written = _write(member, target, written)
    return names


def _write(member: _Member, target: Path, written: int) -> int:
    """Copy one file member, counting the bytes actually read against MAX_TOTAL and its declared size."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out, member.open() as data:
        copied = 0
        while chunk := data.read(_CHUNK):
            copied += len(chunk)
            if copied > member.size or written + copied > MAX_TOTAL:
                raise ToolError(_TOOL, f"archive member {member.name!r} is larger than it declares or the "
                                       f"archive expands past {MAX_TOTAL} bytes")
            out.write(chunk)
    target.chmod((member.mode & 0o755) | 0o600)
    return written + copied


def _sources(context: ToolContext, paths: list[str]) -> list[tuple[Path, str]]:
    """(file or directory, name in the archive) of every source; links out of the sandbox are refused."""
    entries, total = [], 0
    for given in paths:
        source = sandbox_path(context, _TOOL, given, must_exist=True)
        files = [source] if source.is_file() else list(sandbox_files(context, _TOOL, source, strict=True))
        if source.is_dir():
            entries.append((source, source.name))
        for file in files:
            total += file.stat().st_size
            entries.append((file, str(file.relative_to(source.parent))))
        if len(entries) > MAX_MEMBERS or total > MAX_TOTAL:
            raise ToolError(_TOOL, f"sources exceed {MAX_MEMBERS} files or {MAX_TOTAL} bytes")
    return entries


def _archive_ops(context: ToolContext) -> dict[str, Any]:
    def path(a: dict[str, Any], key: str, must_exist: bool = False) -> Path:
        return sandbox_path(context, _TOOL, require(_TOOL, a, key)[0], must_exist=must_exist)

    def create(a: dict[str, Any]) -> dict[str, Any]:
        target = path(a, "archive")
        entries = _sources(context, require(_TOOL, a, "sources")[0])
        target.parent.mkdir(parents=True, exist_ok=True)
        import tarfile
        import zipfile

        if _kind(target.name) == "zip":
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
                for file, name in entries:
                    if file.is_file():
                        out.write(file.resolve(), name)
        else:
            with tarfile.open(target, "w:" + _MODES[_kind(target.name)]) as out:
                for file, name in entries:
                    out.add(file.resolve() if file.is_file() else file, name, recursive=False)
        return {"archive": a["archive"], "bytes": target.stat().st_size}

    def listing(a: dict[str, Any]) -> dict[str, Any]:
        with _opened(path(a, "archive", True)) as archive:
            return {"files": [m.name for m in _members(archive)]}

    def extract(a: dict[str, Any]) -> dict[str, Any]:
        source, dest = path(a, "archive", True), path(a, "destination")
        dest.mkdir(parents=True, exist_ok=True)
        with _opened(source) as archive:
            return {"destination": a["destination"], "files": _extract(archive, dest)}

    return {"create": create, "extract": extract, "list": listing}


def archive_tool(context: ToolContext) -> Tool:
    """The archive tool bound to `context`'s sandbox."""
    s = {"type": "string"}
    return op_tool(_TOOL, "Create, extract or list tar, tar.gz, tar.bz2, tar.xz and zip archives in the sandbox "
                   f"(at most {MAX_MEMBERS} members and {MAX_TOTAL // 2**20} MB expanded).", _archive_ops(context),
                   {"archive": s, "sources": {"type": "array", "items": s, "maxItems": 100}, "destination": s},
                   ("archive",), side_effects=True)
