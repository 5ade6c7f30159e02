"""Reading one file of the tool sandbox for the API to send (`/files/view`, `/files/download`).

Only regular files inside the sandbox are read. The path is resolved (symlinks inside the sandbox are
followed) and must stay inside it and outside the blocked paths; the resolved path is then opened
component by component from the sandbox directory without following any link, so a link swapped in
after the check is refused instead of followed. FIFOs, devices and directories are refused before they
are opened, and a file with other hard links is refused too (a link to a file outside the sandbox looks
like any other file).
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from agentstage.runtime.errors import AgentstageError
from agentstage.runtime.tools.paths import BLOCKED_PATHS, inside

__all__ = ["MAX_SERVED", "FileRefused", "SandboxFile", "read_sandbox_file"]

MAX_SERVED = 50 * 1024 * 1024
"""Largest file served (bytes), as in the reference DevUI."""


class FileRefused(AgentstageError):
    """A file is not served; `kind` is invalid, outside, missing, not_file or too_large."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SandboxFile:
    """A file read whole: its base name, its path relative to the sandbox and its bytes."""

    name: str
    relative: str
    data: bytes


def _resolved(root: Path, path: str) -> Path:
    if not path or not path.strip():
        raise FileRefused("invalid", "path is empty")
    if "\0" in path or any(ord(c) < 32 for c in path):
        raise FileRefused("invalid", "path holds a control character")
    given = Path(path)
    candidate = (given if given.is_absolute() else root / given).resolve()
    for blocked in BLOCKED_PATHS:
        if inside(Path(os.path.expanduser(blocked)).resolve(), candidate):
            raise FileRefused("outside", f"{path!r} is a blocked path")
    if not inside(root, candidate):
        raise FileRefused("outside", f"{path!r} is not inside the tool sandbox")
    if candidate == root:
        raise FileRefused("not_file", f"{path!r} is the sandbox directory, not a file")
    return candidate


def _open_beneath(root: Path, parts: tuple[str, ...]) -> tuple[int, os.stat_result]:
    """A read-only descriptor of root/parts opened without following links, and its stat."""
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW
    directory = os.open(root, flags | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            following = os.open(part, flags | os.O_DIRECTORY, dir_fd=directory)
            os.close(directory)
            directory = following
        before = os.stat(parts[-1], dir_fd=directory, follow_symlinks=False)
        if not stat.S_ISREG(before.st_mode):
            raise FileRefused("not_file", f"{'/'.join(parts)} is not a regular file")
        fd = os.open(parts[-1], flags | os.O_NONBLOCK, dir_fd=directory)
    finally:
        os.close(directory)
    after = os.fstat(fd)
    if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino) or not stat.S_ISREG(after.st_mode):
        os.close(fd)
        raise FileRefused("not_file", f"{'/'.join(parts)} changed while it was opened")
    return fd, after


def read_sandbox_file(root: Path, path: str, limit: int = MAX_SERVED) -> SandboxFile:
    """The regular file `path` (relative to `root`, or absolute inside it) read whole; raises FileRefused."""
    root = root.resolve()
    candidate = _resolved(root, path)
    relative = candidate.relative_to(root)
    try:
        fd, info = _open_beneath(root, relative.parts)
    except FileNotFoundError:
        raise FileRefused("missing", f"{path!r} does not exist") from None
    except NotADirectoryError:
        raise FileRefused("missing", f"{path!r} does not exist") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileRefused("outside", f"{path!r} changed into a link while it was opened") from None
        raise FileRefused("missing", f"{path!r} cannot be read: {exc.strerror}") from None
    try:
        if info.st_nlink > 1:
            raise FileRefused("outside", f"{path!r} has other hard links; such files are not served")
        if info.st_size > limit:
            raise FileRefused("too_large", f"{path!r} is larger than {limit} bytes")
        chunks, left = [], info.st_size
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    return SandboxFile(candidate.name, relative.as_posix(), b"".join(chunks))
