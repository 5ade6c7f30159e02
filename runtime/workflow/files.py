"""Writing a registered workflow into the workflow directory: a sanitised file name (never a path out of the
directory), written atomically and never over another file."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from agentstage.runtime.errors import Refused

__all__ = ["file_stem", "write_workflow_file"]

_OUTSIDE = re.compile(r"[^a-z0-9._-]+")


def file_stem(name: str) -> str:
    """The reference DevUI's file name for a workflow: lower case, runs of other characters as `-`, no leading or
    trailing `-` or `.`, at most 80 characters; empty when nothing is left."""
    stem = _OUTSIDE.sub("-", name.strip().lower()).strip("-.")
    return stem[:80].rstrip("-.")


def write_workflow_file(directory: Path, name: str, document: dict[str, Any]) -> Path:
    """Write `document` to `<directory>/<file_stem(name)>.json` atomically; Refused (field `name`) when the name
    has no file name or that file exists already."""
    stem = file_stem(name)
    if not stem:
        raise Refused(name, f"workflow name {name!r} gives no file name", field="name")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{stem}.json"
    if target.parent.resolve() != directory.resolve():
        raise Refused(name, f"workflow name {name!r} gives no file name inside the workflow directory", field="name")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2, ensure_ascii=False)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        # NOTE: a hard link publishes the complete file under its name, and fails instead of replacing one.
        os.link(temporary, target)
    except FileExistsError:
        raise Refused(name, f"a workflow file {target.name} exists already in {directory}", field="name") from None
    finally:
        os.unlink(temporary)
    directory_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)
    return target
