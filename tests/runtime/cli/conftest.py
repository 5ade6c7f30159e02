"""Fixtures for CLI verb tests: the CLI entry point in-process, in a fresh directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentstage.runtime.cli import main


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """`cli(*args) -> (exit code, stdout, stderr)` with AGENTSTAGE_HOME in tmp_path and no other AGENTSTAGE_*."""
    for name in [k for k in os.environ if k.startswith("AGENTSTAGE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AGENTSTAGE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
