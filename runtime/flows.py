"""Named flows: an agent configuration under a name (system prompt, tools, skills, workflow), as the
reference DevUI's flows, run by the playground and by `POST /flows/{name}/run`.

Flows come from a few built-ins, JSON files in `AGENTSTAGE_FLOW_DIR` (default `$AGENTSTAGE_HOME/flows`;
`persist` writes there, atomically) and flows saved in this process only (`persist: false`).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentstage.runtime._log import logger
from agentstage.runtime.errors import InvalidArgument, NotFound, Refused
from agentstage.runtime.spec_files import write_spec

__all__ = ["BUILTIN_FLOWS", "Flow", "FlowRegistry", "flow_dir"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
SINGLE_AGENT = ("", "basic")
"""Workflow names that mean one agent run with the flow's configuration."""


def _strings(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidArgument(key, "expected a list of names")
    return tuple(v.strip() for v in value)


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    value = data.get(key) or ""
    if not isinstance(value, str):
        raise InvalidArgument(key, "expected a string")
    if len(value) > limit:
        raise InvalidArgument(key, f"at most {limit} characters")
    return value


def _object(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is not None and not isinstance(value, dict):
        raise InvalidArgument(key, "expected a JSON object")
    return value


@dataclass(frozen=True)
class Flow:
    """An agent configuration under a name (the reference's flow Definition)."""

    name: str
    description: str = ""
    workflow: str = ""
    tools: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    system_prompt: str = ""
    input_example: str = ""
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    builtin: bool = False
    persisted: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> Flow:
        """A flow from the reference's JSON shape (camelCase); InvalidArgument names the field."""
        if not isinstance(data, dict):
            raise InvalidArgument("flow", "expected a JSON object")
        name = data.get("name")
        if not isinstance(name, str) or not _NAME.match(name.strip()):
            raise InvalidArgument("name", "1-80 letters, digits, '.', '_' or '-', starting with a letter or digit")
        return cls(name.strip(), _text(data, "description", 2_000), _text(data, "workflow", 200).strip(),
                   _strings(data, "tools"), _strings(data, "skills"), _text(data, "systemPrompt", 100_000),
                   _text(data, "inputExample", 10_000), _object(data, "inputSchema"), _object(data, "outputSchema"))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "workflow": self.workflow,
                "tools": list(self.tools), "skills": list(self.skills), "systemPrompt": self.system_prompt,
                "inputExample": self.input_example, "inputSchema": self.input_schema,
                "outputSchema": self.output_schema, "builtin": self.builtin, "persisted": self.persisted}


def _builtin(name: str, description: str, system_prompt: str, tools: tuple[str, ...] = ("@default",),
             skills: tuple[str, ...] = (), example: str = "") -> Flow:
    return Flow(name, description, "basic", tools, skills, system_prompt, example, builtin=True)


BUILTIN_FLOWS: tuple[Flow, ...] = (
    _builtin("general-assistant", "a general assistant with the default tools",
             "You are a helpful assistant. Use tools when they help and say what you did.",
             example="What time is it in UTC?"),
    _builtin("support-engineer", "support engineering: triage reports, find causes, propose fixes",
             "You are a support engineer. Restate the problem, ask for what is missing, find the likely cause "
             "and propose the next safe step.", skills=("incident-response",),
             example="Customers see 502 errors on checkout since 10:00."),
    _builtin("code-reviewer", "review code for correctness and security", "You review code changes: bugs, "
             "security issues and missing tests first, style last.", skills=("code-audit",)),
    _builtin("devops-assistant", "operations: logs, processes, services", "You help operate services. Prefer "
             "read-only checks before any change and say what each step does.", tools=("@default", "@devops")),
)


def flow_dir(config: Any) -> Path:
    """Where flow files live."""
    return Path(config.flow_dir) if config.flow_dir else Path(config.home) / "flows"


class FlowRegistry:
    """Built-in flows, the flow files of `folder`, and flows saved in this process only."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._memory: dict[str, Flow] = {}

    def all(self) -> list[Flow]:
        """Every flow by name (a saved flow shadows a built-in one of its name)."""
        found = {flow.name: flow for flow in BUILTIN_FLOWS}
        found.update(self._files())
        with self._lock:
            found.update(self._memory)
        return [found[name] for name in sorted(found)]

    def get(self, name: str) -> Flow:
        for flow in self.all():
            if flow.name == name:
                return flow
        raise NotFound("flow", name)

    def upsert(self, flow: Flow, *, persist: bool) -> Flow:
        """Save `flow` (replacing one of its name): to the folder when `persist`, else in this process only."""
        if persist:
            if self.folder is None:
                raise Refused(flow.name, "this registry has no flow folder to write to", field="persist")
            body = {k: v for k, v in flow.to_dict().items() if k not in ("builtin", "persisted")}
            write_spec(self.folder, f"{flow.name}.json", body)
            saved = Flow(**{**flow.__dict__, "persisted": True, "builtin": False})
            with self._lock:
                self._memory.pop(flow.name, None)
            return saved
        saved = Flow(**{**flow.__dict__, "persisted": False, "builtin": False})
        with self._lock:
            self._memory[flow.name] = saved
        return saved

    def delete(self, name: str) -> None:
        """Remove a saved flow (its file too); built-in flows cannot be removed."""
        flow = self.get(name)
        if flow.builtin:
            raise Refused(name, "built-in flows cannot be removed")
        with self._lock:
            self._memory.pop(name, None)
        if self.folder is not None:
            (self.folder / f"{name}.json").unlink(missing_ok=True)

    def _files(self) -> dict[str, Flow]:
        found: dict[str, Flow] = {}
        for path in sorted(self.folder.glob("*.json")) if self.folder is not None and self.folder.is_dir() else ():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                flow = Flow.from_dict({**data, "name": data.get("name") or path.stem})
            except (OSError, ValueError, InvalidArgument) as exc:
                logger.warning("flow file {} skipped: {}", path, exc)
                continue
            found[flow.name] = Flow(**{**flow.__dict__, "persisted": True})
        return found
