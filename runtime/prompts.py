"""Versioned prompts: `name@version` specs with a system text whose `{{variable}}` tokens are filled strictly.

Specs come from a few built-ins and from JSON files in one folder (`AGENTSTAGE_PROMPT_DIR`, default
`$AGENTSTAGE_HOME/prompts`), so every process built from the same config sees the same registry; a
file written by `upsert` replaces its `name@version` atomically. A reference without a version means
the greatest version (compared piece by piece, numbers as numbers: `v10` is after `v9`). Rendering
names every variable the input lacks instead of leaving a hole in the prompt.
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

__all__ = ["BUILTIN_PROMPTS", "PromptRegistry", "PromptSpec", "parse_ref", "prompt_dir", "render_prompt"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_TOKEN = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
_MAX_SYSTEM = 100_000


def parse_ref(ref: str, field_name: str = "ref") -> tuple[str, str | None]:
    """(name, version or None) of `name[@version]`, lower-cased; InvalidArgument naming `field_name` otherwise."""
    if not isinstance(ref, str):
        raise InvalidArgument(field_name, "expected name or name@version")
    name, at, version = ref.strip().lower().partition("@")
    _check(name, field_name)
    if at:
        _check(version, field_name)
    return name, version or None


def _check(part: str, field_name: str) -> None:
    if not _NAME.match(part):
        raise InvalidArgument(field_name, "names and versions are 1-100 of a-z, 0-9, '.', '_' or '-', "
                                          "starting with a letter or digit")


def render_prompt(text: str, variables: dict[str, Any]) -> str:
    """`text` with each `{{name}}` replaced by `variables[name]` (non-strings as JSON); InvalidArgument naming
    `input` lists every missing variable."""
    missing = sorted({m.group(1) for m in _TOKEN.finditer(text)} - set(variables))
    if missing:
        raise InvalidArgument("input", f"missing variables: {', '.join(missing)}")

    def value(match: re.Match[str]) -> str:
        found = variables[match.group(1)]
        return found if isinstance(found, str) else json.dumps(found, ensure_ascii=False, default=str)

    return _TOKEN.sub(value, text)


def _version_key(version: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|[^\d]+", version))


@dataclass(frozen=True)
class PromptSpec:
    """One version of a prompt: its system text (with `{{variable}}` tokens) and what describes it."""

    name: str
    version: str = "v1"
    system: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    input_schema: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    builtin: bool = False

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def variables(self) -> list[str]:
        """The variable names its system text uses, in name order."""
        return sorted({m.group(1) for m in _TOKEN.finditer(self.system)})

    @classmethod
    def from_dict(cls, data: Any, *, default_name: str = "") -> PromptSpec:
        """A normalised spec (name and version lower-cased, version default v1); InvalidArgument names the field."""
        if not isinstance(data, dict):
            raise InvalidArgument("spec", "expected a JSON object")
        name = str(data.get("name") or default_name).strip().lower()
        version = str(data.get("version") or "v1").strip().lower()
        _check(name, "name")
        _check(version, "version")
        system = data.get("system")
        if not isinstance(system, str) or not system.strip():
            raise InvalidArgument("system", "a prompt needs its system text")
        if len(system) > _MAX_SYSTEM:
            raise InvalidArgument("system", f"at most {_MAX_SYSTEM} characters")
        tags = data.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise InvalidArgument("tags", "expected a list of strings")
        schema = data.get("inputSchema", data.get("input_schema"))
        if schema is not None and not isinstance(schema, dict):
            raise InvalidArgument("inputSchema", "expected a JSON object")
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise InvalidArgument("metadata", "expected a JSON object")
        description = data.get("description") or ""
        if not isinstance(description, str):
            raise InvalidArgument("description", "expected a string")
        return cls(name, version, system, description, tuple(tags), schema, dict(metadata))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "ref": self.ref, "description": self.description,
                "system": self.system, "tags": list(self.tags), "inputSchema": self.input_schema,
                "metadata": self.metadata, "variables": self.variables, "builtin": self.builtin}

    def render(self, variables: dict[str, Any]) -> str:
        return render_prompt(self.system, variables)


def _builtin(name: str, description: str, system: str, *tags: str) -> PromptSpec:
    return PromptSpec(name, "v1", system, description, tags, builtin=True)


BUILTIN_PROMPTS: tuple[PromptSpec, ...] = (
    _builtin("default", "a helpful, concise assistant", "You are a helpful assistant. Answer concisely and say "
             "when you are not sure.", "general"),
    _builtin("analyst", "structured analysis of {{topic}}", "You are an analyst. Break {{topic}} down into facts, "
             "assumptions and open questions, then give a short recommendation.", "analysis"),
    _builtin("engineer", "a careful software engineer", "You are a senior software engineer. Prefer small, tested "
             "changes; explain trade-offs; never invent APIs.", "engineering"),
    _builtin("sre", "incident triage for {{service}}", "You are an SRE on call for {{service}}. Triage the report: "
             "impact, likely cause, the next safe step, and what to watch.", "ops"),
    _builtin("summarizer", "summaries at most {{words}} words long", "Summarize the user's text in at most {{words}} "
             "words. Keep names, numbers and decisions.", "writing"),
    _builtin("code-reviewer", "code review focused on correctness and security", "You review code. List bugs, "
             "security issues and missing tests first, style last; quote the lines you mean.", "engineering"),
    _builtin("support-agent", "customer support for {{product}}", "You support customers of {{product}}. Be "
             "friendly and precise; ask for what you need; never promise what you cannot check.", "support"),
)


def prompt_dir(config: Any) -> Path:
    """Where prompt files live."""
    return Path(config.prompt_dir) if config.prompt_dir else Path(config.home) / "prompts"


class PromptRegistry:
    """The built-in prompts and the prompt files of `folder` (read again when the folder changes)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._loaded: tuple[float, dict[tuple[str, str], PromptSpec]] | None = None

    def all(self) -> list[PromptSpec]:
        """Every prompt version, by name then version."""
        specs = self._specs()
        return [specs[key] for key in sorted(specs, key=lambda k: (k[0], _version_key(k[1])))]

    def get(self, ref: str, field_name: str = "ref") -> PromptSpec:
        """The spec `ref` names (`name` alone: its greatest version); NotFound when there is none."""
        name, version = parse_ref(ref, field_name)
        versions = [spec for (n, _), spec in self._specs().items() if n == name]
        if version is not None:
            versions = [spec for spec in versions if spec.version == version]
        if not versions:
            raise NotFound("prompt", ref)
        return max(versions, key=lambda spec: _version_key(spec.version))

    def render(self, ref: str, variables: dict[str, Any]) -> str:
        """The system text of `ref` with `variables` filled in (InvalidArgument names missing ones)."""
        return self.get(ref).render(variables)

    def upsert(self, spec: PromptSpec) -> PromptSpec:
        """Write `spec` as `<folder>/<name>@<version>.json` (replacing that version); built-ins stay as they are."""
        if any(b.name == spec.name and b.version == spec.version for b in BUILTIN_PROMPTS):
            raise Refused(spec.ref, f"{spec.ref} is a built-in prompt; save another version", field="version")
        body = {k: v for k, v in spec.to_dict().items() if k not in ("ref", "variables", "builtin")}
        write_spec(self._folder(), f"{spec.ref}.json", body)
        self._forget()
        return spec

    def delete(self, ref: str) -> list[str]:
        """Remove the files of `ref` (every version of a bare name); returns the refs removed."""
        name, version = parse_ref(ref)
        found = [spec for spec in self._specs().values()
                 if spec.name == name and (version is None or spec.version == version)]
        if not found:
            raise NotFound("prompt", ref)
        if any(spec.builtin for spec in found):
            raise Refused(ref, "built-in prompts cannot be removed", field="ref")
        folder = self._folder()
        for spec in found:
            (folder / f"{spec.ref}.json").unlink(missing_ok=True)
        self._forget()
        return [spec.ref for spec in found]

    def _folder(self) -> Path:
        if self.folder is None:
            raise Refused("prompts", "this registry has no prompt folder to write to")
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder

    def _forget(self) -> None:
        with self._lock:
            self._loaded = None

    def _specs(self) -> dict[tuple[str, str], PromptSpec]:
        stamp = self._stamp()
        with self._lock:
            if self._loaded is not None and self._loaded[0] == stamp:
                return self._loaded[1]
        specs = {(spec.name, spec.version): spec for spec in BUILTIN_PROMPTS}
        for path in sorted(self.folder.glob("*.json")) if self.folder is not None and self.folder.is_dir() else ():
            try:
                spec = PromptSpec.from_dict(json.loads(path.read_text(encoding="utf-8")),
                                            default_name=path.stem.partition("@")[0])
            except (OSError, ValueError, InvalidArgument) as exc:
                logger.warning("prompt file {} skipped: {}", path, exc)
                continue
            specs[(spec.name, spec.version)] = spec
        with self._lock:
            self._loaded = (stamp, specs)
        return specs

    def _stamp(self) -> float:
        try:
            return self.folder.stat().st_mtime_ns if self.folder is not None else 0.0
        except OSError:
            return 0.0
