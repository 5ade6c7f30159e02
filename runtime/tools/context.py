"""What built-in tools may touch: sandbox root, host allow-list, shell switch and programs, session storage.

The System builds one `ToolContext` from its Config and hands it to every tool factory, so
no tool reads settings or state from a process global.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from agentstage.runtime.retrieval.context import Retrieval
from agentstage.runtime.tools.hosts import HostPolicy

__all__ = ["SessionItems", "ToolContext"]

class SessionItems(Protocol):
    """Per-session values kept in the store (memory_store, todo_manager)."""

    def items(self, session_id: str, namespace: str) -> dict[str, tuple[Any, str | None]]:
        """Live values of a session's namespace: key -> (value, expires_at)."""

    def put(self, session_id: str, namespace: str, values: Mapping[str, tuple[Any, str | None] | None]) -> None:
        """Set (value, expires_at) or delete (None) keys atomically; returns once durable."""


@dataclass(frozen=True)
class ToolContext:
    """Limits and services for built-in tools."""

    sandbox: Path = field(default_factory=lambda: Path(".agentstage/sandbox").resolve())
    allow_hosts: tuple[str, ...] = ()
    shell_enabled: bool = False
    shell_programs: tuple[str, ...] = ()
    """Programs shell_command may run; empty means its small read-only default set."""
    http_timeout: float = 30.0
    max_response_bytes: int = 2 * 1024 * 1024
    items: SessionItems | None = None
    retrieval: Retrieval | None = None
    """Document collections for search_documents (default: docs.db beside the sandbox, hash embedder)."""

    @classmethod
    def from_config(cls, config: Any, items: SessionItems | None = None) -> ToolContext:
        """The context described by a `Config` (sandbox, allow-list, shell switch, document collections)."""
        sandbox = Path(config.tool_sandbox) if config.tool_sandbox else Path(config.home) / "sandbox"
        hosts = tuple(h.strip().lower() for h in config.tool_allow_hosts.split(",") if h.strip())
        programs = tuple(p.strip() for p in config.tool_shell_programs.split(",") if p.strip())
        return cls(sandbox.resolve(), hosts, config.tool_shell, programs, items=items,
                   retrieval=Retrieval.from_config(config))

    @property
    def documents(self) -> Retrieval:
        """The document collections tools search."""
        return self.retrieval if self.retrieval is not None else Retrieval(self.sandbox.parent / "docs.db")

    @property
    def storage_dir(self) -> Path:
        return self.sandbox / "generated"

    @property
    def hosts(self) -> HostPolicy:
        """The allow-list as a policy (see `runtime/tools/hosts.py`)."""
        return HostPolicy(self.allow_hosts)
