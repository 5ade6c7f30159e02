"""Credential references: env:, file:, pluggable schemes; the policy (configured names, a file root);
errors name the reference, never the value."""

from pathlib import Path

import pytest

from agentstage.runtime.config import Config
from agentstage.runtime.integrations.credentials import CredentialError, CredentialResolver, parse_ref

ROOT = Path(__file__).resolve().parents[3]


def test_env_and_file_references(tmp_path) -> None:
    (tmp_path / "token").write_text("  from-file \n")
    resolver = CredentialResolver({"API_TOKEN": " abc "}, file_root=tmp_path, env_names=["API_*"])
    assert resolver.resolve("env:API_TOKEN") == "abc"
    assert resolver.resolve(f"file:{tmp_path / 'token'}") == "from-file"
    assert resolver.resolve("file:token") == "from-file"


@pytest.mark.parametrize("ref, reason", [
    ("API_TOKEN", "looks like"), ("vault:x", "unknown scheme"), ("env:NOPE", "not set"), ("env:EMPTY", "empty"),
    ("env:bad-name", "variable name"), ("file:/etc/hostname", "not under the credential root"),
    ("env:OPENAI_API_KEY", "not allowed"), ("file:../outside", "not under")])
def test_bad_references_are_errors(tmp_path, ref, reason) -> None:
    resolver = CredentialResolver({"EMPTY": " ", "OPENAI_API_KEY": "sk-x"}, file_root=tmp_path,
                                  env_names=["EMPTY", "NOPE"])
    with pytest.raises(CredentialError, match=reason):
        resolver.resolve(ref)


@pytest.mark.parametrize("ref", ["file:/etc/shadow", "file:/etc/hostname", "file:/nonexistent/x",
                                 "file:~/.ssh/id_rsa", "env:HOME", "env:PATH"])
def test_references_outside_the_policy_are_refused_before_touching_the_host(tmp_path, monkeypatch, ref) -> None:
    resolver = CredentialResolver({"HOME": "/root", "PATH": "/bin"}, file_root=tmp_path / "creds")
    touched = []
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: touched.append(self) or "x")
    monkeypatch.setattr(Path, "exists", lambda self: touched.append(self) or True)
    with pytest.raises(CredentialError) as caught:
        resolver.check(ref)
    assert not touched and "cannot read" not in caught.value.reason
    assert resolver.resolvable(ref) is False


def test_a_symlink_under_the_root_leading_out_is_refused(tmp_path) -> None:
    (tmp_path / "creds").mkdir()
    (tmp_path / "outside").write_text("host secret")
    (tmp_path / "creds" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(CredentialError, match="not under"):
        CredentialResolver({}, file_root=tmp_path / "creds").resolve("file:link")


def test_the_policy_comes_from_the_config(tmp_path) -> None:
    config = Config.from_env({"AGENTSTAGE_CREDENTIAL_ENV": "HOOK_TOKEN,DEPLOY_*", "HOOK_TOKEN": "t",
                              "DEPLOY_KEY": "k", "OTHER": "o"}, dotenv=None, home=str(tmp_path))
    resolver = CredentialResolver.from_config(config)
    assert resolver.resolve("env:HOOK_TOKEN") == "t" and resolver.resolve("env:DEPLOY_KEY") == "k"
    assert not resolver.resolvable("env:OTHER")
    (tmp_path / "credentials").mkdir()
    (tmp_path / "credentials" / "pd").write_text("pd-key")
    assert resolver.resolve("file:pd") == "pd-key"


def test_env_example_documents_the_credential_policy() -> None:
    text = (ROOT / ".env.example").read_text()
    assert "AGENTSTAGE_CREDENTIAL_ENV=" in text and "AGENTSTAGE_CREDENTIAL_FILE_ROOT=" in text


def test_pluggable_scheme_and_failing_resolver_hides_its_message() -> None:
    resolver = CredentialResolver({})
    resolver.register("vault", lambda target: {"db/pw": "v-secret"}[target])
    assert resolver.resolve("vault:db/pw") == "v-secret"
    with pytest.raises(CredentialError) as caught:
        resolver.resolve("vault:other")
    assert "KeyError" in str(caught.value) and "other" in caught.value.ref
    assert resolver.resolvable("vault:db/pw") and not resolver.resolvable("vault:other")
    assert parse_ref("env:X") == ("env", "X")
