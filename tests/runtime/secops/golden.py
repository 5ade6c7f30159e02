"""Golden files of the secops samples: compare, or rewrite with AGENTSTAGE_UPDATE_GOLDEN=1 (then review the diff)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "examples" / "secops"
GOLDEN = Path(__file__).parent / "golden"
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".json", ".log"))


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def check(name: str, actual: dict[str, Any]) -> None:
    """Assert `actual` equals golden file `name` (written instead when updating)."""
    path = GOLDEN / name
    if os.environ.get("AGENTSTAGE_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
    assert actual == json.loads(path.read_text()), f"{name} differs from its golden file"
