"""`agentstage ui-admin`: keys are printed once, stored hashed, listed without secrets, revoked; all audited."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentstage.api.auth import check_key
from agentstage.runtime.cli import main
from agentstage.runtime.cli.ui import parse_duration
from agentstage.runtime.state.admin import AdminReader


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("AGENTSTAGE_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path / ".agentstage"


def test_create_list_and_revoke_a_key(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ui-admin", "create-key", "--role", "operator", "--name", "ci", "--expires-in", "30d", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    reader = AdminReader(home / "agentstage.db")
    key, reason = check_key(reader, created["secret"])
    assert key is not None and key.role == "operator" and key.expires_at == created["expires_at"]
    assert main(["ui-admin", "list-keys", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [k["id"] for k in listed] == [created["id"]] and created["secret"] not in json.dumps(listed)
    assert main(["ui-admin", "revoke-key", created["id"]]) == 0
    assert check_key(reader, created["secret"]) == (None, "revoked")
    actions = [entry.action for entry in reader.audit().items]
    assert actions == ["auth.key.revoke", "auth.key.create"]
    assert created["secret"] not in json.dumps([e.detail for e in reader.audit().items])


def test_revoking_an_unknown_key_is_a_usage_error(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["ui-admin", "create-key"])
    capsys.readouterr()
    assert main(["ui-admin", "revoke-key", "nope"]) == 2
    assert "unknown api key: nope" in capsys.readouterr().err


def test_the_last_active_admin_key_is_revoked_only_with_force(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ui-admin", "create-key", "--role", "admin", "--json"]) == 0
    admin = json.loads(capsys.readouterr().out)
    assert main(["ui-admin", "revoke-key", admin["id"]]) == 2
    assert "last active admin key" in capsys.readouterr().err
    assert main(["ui-admin", "revoke-key", admin["id"], "--force"]) == 0


def test_list_keys_without_a_store(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ui-admin", "list-keys"]) == 0
    assert capsys.readouterr().out.strip() == "no API keys yet"


@pytest.mark.parametrize(("text", "seconds"), [("3600", 3600), ("90m", 5400), ("12h", 43200), ("2w", 1209600)])
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["0", "-5", "1y", "soon", ""])
def test_parse_duration_refuses_nonsense(text: str) -> None:
    with pytest.raises(Exception, match="duration"):
        parse_duration(text)


def test_list_keys_shows_expiry_dates_and_expired_keys(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ui-admin", "create-key", "--name", "month", "--expires-in", "30d", "--json"]) == 0
    expires = json.loads(capsys.readouterr().out)["expires_at"]
    assert main(["ui-admin", "create-key", "--name", "brief", "--expires-in", "1s"]) == 0
    assert main(["ui-admin", "create-key", "--name", "forever"]) == 0
    time.sleep(1.1)
    capsys.readouterr()
    assert main(["ui-admin", "list-keys"]) == 0
    rows = {line.split()[-1]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert f"active    {expires[:10]} {expires[11:16]} UTC" in rows["month"]
    assert "  expired  " in rows["brief"] and "  never  " in rows["forever"]


AGENTSTAGE = str(Path(sys.executable).parent / "agentstage")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _first_lines(tmp_path: Path, args: list[str], until: str, **env: str) -> list[str]:
    """Start a real server verb, read its stderr until a line containing `until`, stop it with SIGTERM."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    environ.update(AGENTSTAGE_HOME=str(tmp_path / "home"), AGENTSTAGE_PROVIDER="scripted",
                   AGENTSTAGE_LOG_LEVEL="WARNING", **env)
    server = subprocess.Popen([AGENTSTAGE, *args], env=environ, cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        while not lines or until not in lines[-1]:
            lines.append(server.stderr.readline())
            assert lines[-1], f"the server exited: {lines}"
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    return lines


def test_ui_api_start_line_names_the_web_page(tmp_path: Path) -> None:
    port = _free_port()
    lines = _first_lines(tmp_path, ["ui-api", "--ui-addr", f"0.0.0.0:{port}"], "API on")
    assert f"API on http://127.0.0.1:{port}/api/v1, web page at http://127.0.0.1:{port}/ui/" in lines[-1]


def test_ui_open_without_a_browser_says_so(tmp_path: Path) -> None:
    port = _free_port()
    lines = _first_lines(tmp_path, ["ui", "--ui-open", "--ui-addr", f"127.0.0.1:{port}"], "no browser",
                         BROWSER="false")
    assert lines[-1] == "agentstage: --ui-open found no browser to start here; open the link above yourself\n"


def test_ui_api_with_a_db_in_a_missing_directory_says_so_when_it_is_up(tmp_path: Path) -> None:
    port = _free_port()
    lines = _first_lines(tmp_path, ["ui-api", "--port", str(port), "--db", "fresh/dir/state.db"], "API on")
    assert lines[-2] == "agentstage: created the state file fresh/dir/state.db (its directory did not exist)\n"
    assert (tmp_path / "fresh" / "dir" / "state.db").is_file()
