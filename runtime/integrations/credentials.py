"""Credential references (`env:NAME`, `file:PATH`, or a registered scheme), their policy and resolution.

Only references are stored, listed, logged or evented; a value exists only inside the call
that resolved it, and `tools.redaction.redact` removes it from whatever the call returns or raises. Errors name
the reference, never the value. Policy: `env:` reads only configured names, `file:` only files
under the configured root; a reference outside the policy is refused without touching the host,
so checking one says nothing about the host's files or variables.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from agentstage.runtime.errors import AgentstageError

__all__ = ["CredentialError", "CredentialResolver", "parse_ref"]

_REF = re.compile(r"^(?P<scheme>[a-z][a-z0-9+-]*):(?P<target>\S.*)$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Resolver = Callable[[str], str]


class CredentialError(AgentstageError):
    """A credential reference is malformed or cannot be resolved; `ref` is the reference."""

    def __init__(self, ref: str, reason: str) -> None:
        super().__init__(f"credential {ref!r}: {reason}")
        self.ref = ref
        self.reason = reason


def parse_ref(ref: object) -> tuple[str, str]:
    """Split `scheme:target`; raises CredentialError for anything else."""
    match = _REF.match(ref) if isinstance(ref, str) else None
    if match is None:
        raise CredentialError(str(ref), "a reference looks like env:NAME or file:PATH")
    return match["scheme"], match["target"]


class CredentialResolver:
    """Resolves references at call time through pluggable per-scheme resolvers, under a policy.

    Args:
        env: the variables `env:` reads (the System passes its Config's merged environment).
        file_root: `file:` paths must resolve under it; None refuses every `file:` reference.
        env_names: names (or `PREFIX*` patterns) `env:` may read; empty refuses every `env:` reference.
    """

    def __init__(self, env: Mapping[str, str], file_root: str | Path | None = None,
                 env_names: Iterable[str] = ()) -> None:
        self._env = env
        self._file_root = Path(file_root).expanduser().resolve() if file_root else None
        self._env_names = tuple(n.strip() for n in env_names if n.strip())
        self._resolvers: dict[str, Resolver] = {"env": self._from_env, "file": self._from_file}

    @classmethod
    def from_config(cls, config: Any) -> CredentialResolver:
        """The resolver a Config describes (AGENTSTAGE_CREDENTIAL_FILE_ROOT, AGENTSTAGE_CREDENTIAL_ENV)."""
        root = config.credential_file_root or str(Path(config.home) / "credentials")
        return cls(config.env, root, config.credential_env.split(","))

    def register(self, scheme: str, resolver: Resolver) -> None:
        """Add a scheme (a vault, a secrets manager, ...); `resolver(target)` returns the value or raises."""
        if not re.fullmatch(r"[a-z][a-z0-9+-]*", scheme):
            raise ValueError(f"bad scheme {scheme!r}")
        self._resolvers[scheme] = resolver

    @property
    def schemes(self) -> list[str]:
        return sorted(self._resolvers)

    def check(self, ref: str) -> None:
        """Raise CredentialError when `ref` is malformed or its scheme unknown (no resolution)."""
        scheme, target = parse_ref(ref)
        if scheme not in self._resolvers:
            raise CredentialError(ref, f"unknown scheme {scheme!r} (known: {', '.join(self.schemes)})")
        if scheme == "env":
            if not _ENV_NAME.match(target):
                raise CredentialError(ref, "env: needs a variable name")
            if not any(fnmatch.fnmatchcase(target, pattern) for pattern in self._env_names):
                raise CredentialError(ref, "variable is not allowed for credentials (AGENTSTAGE_CREDENTIAL_ENV)")
        if scheme == "file":
            self._file_path(ref, target)

    def _file_path(self, ref: str, target: str) -> Path:
        """The file a `file:` reference names, refused unless it resolves under the credential root."""
        if self._file_root is None:
            raise CredentialError(ref, "file: references are not allowed (no AGENTSTAGE_CREDENTIAL_FILE_ROOT)")
        given = Path(target).expanduser()
        file = (given if given.is_absolute() else self._file_root / given).resolve()
        if self._file_root not in file.parents:
            raise CredentialError(ref, f"file is not under the credential root {self._file_root}")
        return file

    def resolve(self, ref: str) -> str:
        """The secret value; raises CredentialError (naming only the reference) when it cannot be had."""
        self.check(ref)
        scheme, target = parse_ref(ref)
        try:
            value = self._resolvers[scheme](target)
        except CredentialError:
            raise
        except Exception as exc:  # NOTE: plug-in resolvers are user code; their messages may hold secrets
            raise CredentialError(ref, f"resolver failed ({type(exc).__name__})") from None
        if not isinstance(value, str) or not value.strip():
            raise CredentialError(ref, "resolves to an empty value")
        return value.strip()

    def resolvable(self, ref: str) -> bool:
        """Whether `ref` resolves now (the value is discarded)."""
        try:
            self.resolve(ref)
        except CredentialError:
            return False
        return True

    def _from_env(self, name: str) -> str:
        if name not in self._env:
            raise CredentialError(f"env:{name}", "variable is not set")
        return self._env[name]

    def _from_file(self, path: str) -> str:
        file = self._file_path(f"file:{path}", path)
        try:
            return file.read_text()
        except OSError as exc:
            raise CredentialError(f"file:{path}", f"cannot read the file ({exc.strerror})") from None
