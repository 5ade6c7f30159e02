"""JSON spec files in one folder (prompts, flows): atomic replace, so a reader never sees half a file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["write_spec"]


def write_spec(folder: Path, filename: str, body: dict[str, Any]) -> Path:
    """Write `body` as `folder/filename` through a temporary file renamed over it; returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".spec-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(body, out, ensure_ascii=False, indent=2)
        target = folder / filename
        os.replace(temporary, target)
        return target
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
