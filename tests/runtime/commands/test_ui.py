"""`agentstage ui-admin`: keys are printed once, stored hashed, listed without secrets, revoked; all audited."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agentstage.api.auth import check_key
from agentstage.runtime.cli import main
from agentstage.runtime.commands.ui import parse_duration
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
