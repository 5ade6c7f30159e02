"""Shared CLI flags: which settings file a verb reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentstage.runtime.cli import build_parser, main
from agentstage.runtime.cli.common import config_from_args
from agentstage.runtime.errors import ConfigError
from tests.redis_server import in_ci


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


@pytest.mark.parametrize("flag", ["--read-linger-ms=-1", "--max-queued=-5"])
def test_a_negative_flag_is_one_line_and_exit_2_before_anything_starts(
        workdir: Path, capsys: pytest.CaptureFixture[str], flag: str) -> None:
    # NOTE: an unreachable Redis and no wait for it: had the flag been taken, the coordinator would exit at once.
    assert main(["runtime-start", flag, "--redis-url", "redis://127.0.0.1:1/0", "--startup-timeout", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "must not be negative" in err and flag.split("=")[1] in err
    assert not (workdir / "from-dotenv").exists()


AGENTSTAGE = str(Path(sys.executable).parent / "agentstage")


def _process(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    env.update(AGENTSTAGE_HOME=str(tmp_path / "home"), AGENTSTAGE_PROVIDER="scripted")
    return subprocess.run([AGENTSTAGE, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)


@pytest.mark.parametrize("verb", [["run", "--json", "--db", "folder", "--", "hi"], ["runs", "list", "--db", "folder"],
                                  ["state", "stats", "--db", "folder"]])
def test_a_db_path_that_is_a_directory_is_one_line_exit_3(tmp_path: Path, verb: list[str]) -> None:
    (tmp_path / "folder").mkdir()
    done = _process(tmp_path, *verb)
    assert done.returncode == 3, done.stderr
    assert done.stderr == ("agentstage: state store folder: is a directory, not a database file "
                           "(name a file in it, such as folder/agentstage.db)\n")


def test_a_db_path_on_a_read_only_file_system_is_one_line_exit_3(tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        if in_ci():
            pytest.fail(f"this test needs a read-only tmpfs in CI: {done.stderr.decode(errors='replace').strip()}")
        pytest.skip("mounting a read-only tmpfs needs root")
    try:
        for db in ("ro/agentstage.db", "ro/sub/agentstage.db"):
            done = _process(tmp_path, "run", "--json", "--db", db, "--", "hi")
            assert done.returncode == 3, done.stderr
            assert done.stderr == f"agentstage: state store {db}: ro is on a read-only file system\n"
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_db_path_in_a_missing_directory_says_the_file_was_created(tmp_path: Path) -> None:
    done = _process(tmp_path, "run", "--json", "--db", "new/dir/state.db", "--", "hi")
    assert done.returncode == 0 and (tmp_path / "new" / "dir" / "state.db").is_file()
    assert done.stderr == "agentstage: created the state file new/dir/state.db (its directory did not exist)\n"
    again = _process(tmp_path, "run", "--json", "--db", "new/dir/state.db", "--", "hi")
    assert again.returncode == 0 and again.stderr == ""
    listed = _process(tmp_path, "runs", "list", "--db", "other/state.db")
    assert listed.returncode == 0 and listed.stderr == "" and not (tmp_path / "other").exists()
