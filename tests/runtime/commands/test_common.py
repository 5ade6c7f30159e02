"""Shared CLI flags: which settings file a verb reads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentstage.runtime.cli import build_parser, main
from agentstage.runtime.commands.common import config_from_args
from agentstage.runtime.errors import ConfigError


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [k for k in os.environ if k.startswith("AGENTSTAGE_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("AGENTSTAGE_HOME=from-dotenv\n")
    (tmp_path / ".env.other").write_text("AGENTSTAGE_HOME=from-other\n")
    return tmp_path


def _home(*flags: str) -> str:
    return config_from_args(build_parser().parse_args(["runs", "list", *flags])).home


def test_env_file_replaces_the_dotenv_of_the_current_directory(workdir: Path) -> None:
    assert _home() == "from-dotenv"
    assert _home("--env-file", ".env.other") == "from-other"
    assert _home("--env-file", "none") != "from-dotenv"


def test_a_missing_env_file_is_a_usage_error(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        _home("--env-file", "missing.env")
    assert main(["runs", "list", "--env-file", "missing.env"]) == 2
    assert "--env-file='missing.env': no such file" in capsys.readouterr().err


def test_max_iterations_below_one_is_one_line_and_exit_2(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--max-iterations", "0", "--", "calculate 1 + 1"]) == 2
    err = capsys.readouterr().err
    assert err == "agentstage: configuration error: --max-iterations/AGENTSTAGE_MAX_ITERATIONS=0: must be at least 1\n"
