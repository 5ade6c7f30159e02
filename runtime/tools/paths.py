"""The one path guard of every tool that touches files: a path is resolved (symlinks followed)
and must land inside the tool sandbox, outside the blocked paths; walks never follow a link out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools.context import ToolContext

__all__ = ["BLOCKED_PATHS", "MAX_READ", "MAX_WALK", "inside", "read_text", "sandbox_files", "sandbox_path"]

BLOCKED_PATHS = ("/etc/passwd", "/etc/shadow", "/etc/sudoers", "~/.ssh", "~/.gnupg", "~/.aws/credentials",
                 "~/.config/gcloud")
MAX_READ = 1024 * 1024
"""Bytes of one file a tool reads whole."""
MAX_WALK = 100_000
"""Directory entries one walk may visit."""


def inside(root: Path, path: Path) -> bool:
    """Whether the already resolved `path` is `root` or below it."""
    return path == root or root in path.parents


def sandbox_path(context: ToolContext, tool: str, path: str, *, must_exist: bool = False) -> Path:
    """Resolve `path` (relative to the sandbox, or absolute inside it); refuse escapes and blocked paths."""
    if not isinstance(path, str) or not path.strip():
        raise ToolError(tool, "path is empty")
    if "\0" in path:
        raise ToolError(tool, "path holds a NUL character")
    root = context.sandbox
    root.mkdir(parents=True, exist_ok=True)
    expanded = Path(os.path.expanduser(path.strip()))
    candidate = (expanded if expanded.is_absolute() else root / expanded).resolve()
    for blocked in BLOCKED_PATHS:
        if inside(Path(os.path.expanduser(blocked)), candidate):
            raise ToolError(tool, f"path {path!r} is blocked")
    if not inside(root, candidate):
        raise ToolError(tool, f"path {path!r} is outside the tool sandbox {root}")
    if must_exist and not candidate.exists():
        raise ToolError(tool, f"path {path!r} does not exist")
    return candidate


def read_text(tool: str, path: Path, limit: int = MAX_READ) -> str:
    """The text of a file already passed through `sandbox_path`, refused when larger than `limit` bytes."""
    if not path.is_file():
        raise ToolError(tool, f"{path.name} is not a file")
    if path.stat().st_size > limit:
        raise ToolError(tool, f"{path.name} is larger than {limit} bytes")
    with path.open(errors="replace") as handle:
        return handle.read(limit)


def sandbox_files(context: ToolContext, tool: str, root: Path, *, skip_dirs: frozenset[str] = frozenset(),
                  strict: bool = False) -> Iterator[Path]:
    """Regular files under `root` (sorted), walking without following links into directories.

    A symlink to a file inside the sandbox is yielded as the link; one that leads outside is
    skipped, or refused with a ToolError when `strict`. More than MAX_WALK entries is a ToolError.
    """
    seen = 0
    for directory, dirs, files in os.walk(root):
        seen += len(dirs) + len(files)
        if seen > MAX_WALK:
            raise ToolError(tool, f"more than {MAX_WALK} entries under {root.name or '.'}")
        dirs[:] = sorted(d for d in dirs if d not in skip_dirs)
        for name in sorted(files + [d for d in dirs if (Path(directory) / d).is_symlink()]):
            file = Path(directory) / name
            if file.is_symlink():
                target = file.resolve()
                if not inside(context.sandbox, target):
                    if strict:
                        raise ToolError(tool, f"{file.relative_to(context.sandbox)} is a symlink leading outside "
                                              "the sandbox")
                    continue
                if not target.is_file():
                    continue
            elif not file.is_file():
                continue
            yield file
