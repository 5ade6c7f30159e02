"""Credential references: env:, file:, pluggable schemes; errors name the reference, never the value."""

import pytest

from agentstage.runtime.integrations.credentials import CredentialError, CredentialResolver, parse_ref


def test_env_and_file_references(tmp_path) -> None:
    (tmp_path / "token").write_text("  from-file \n")
    resolver = CredentialResolver({"API_TOKEN": " abc "}, file_root=tmp_path)
    assert resolver.resolve("env:API_TOKEN") == "abc"
    assert resolver.resolve(f"file:{tmp_path / 'token'}") == "from-file"


@pytest.mark.parametrize("ref, reason", [
    ("API_TOKEN", "looks like"), ("vault:x", "unknown scheme"), ("env:NOPE", "not set"), ("env:EMPTY", "empty"),
    ("env:bad-name", "variable name"), ("file:/etc/hostname", "outside")])
def test_bad_references_are_errors(tmp_path, ref, reason) -> None:
    resolver = CredentialResolver({"EMPTY": " "}, file_root=tmp_path)
    with pytest.raises(CredentialError, match=reason):
        resolver.resolve(ref)


def test_pluggable_scheme_and_failing_resolver_hides_its_message() -> None:
    resolver = CredentialResolver({})
    resolver.register("vault", lambda target: {"db/pw": "v-secret"}[target])
    assert resolver.resolve("vault:db/pw") == "v-secret"
    with pytest.raises(CredentialError) as caught:
        resolver.resolve("vault:other")
    assert "KeyError" in str(caught.value) and "other" in caught.value.ref
    assert resolver.resolvable("vault:db/pw") and not resolver.resolvable("vault:other")
    assert parse_ref("env:X") == ("env", "X")
