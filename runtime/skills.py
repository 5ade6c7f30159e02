"""Skills: SKILL.md instructions an agent can take on, loaded from configured folders (never installed
from the network).

A SKILL.md is a frontmatter block between `---` lines (`name` and `description` required; `license`;
`allowed-tools` as a dash list, `allowed_tools` too; `metadata` one level deep; other scalar keys go
into metadata) followed by the markdown instructions. Folders come from `AGENTSTAGE_SKILL_DIRS`
(default `./skills`, `./.github/skills`, `./.agents/skills` and `$AGENTSTAGE_HOME/skills`), each with
its `.curated`, `.experimental` and `.system` subfolders; the first skill of a name wins, so a folder
skill shadows a built-in one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentstage.runtime._log import logger
from agentstage.runtime.errors import InvalidArgument, NotFound

__all__ = ["BUILTIN_SKILLS", "Skill", "SkillRegistry", "parse_skill", "skill_dirs"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_SUBFOLDERS = ("", ".curated", ".experimental", ".system")
_MAX_FILE = 1_000_000


@dataclass(frozen=True)
class Skill:
    """One skill: what it is for, its instructions, the tools it may use, where it came from."""

    name: str
    description: str
    instructions: str
    allowed_tools: tuple[str, ...] = ()
    license: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = "builtin"
    path: str = ""

    def summary(self) -> dict[str, Any]:
        """The reference DevUI's list shape."""
        return {"name": self.name, "description": self.description, "license": self.license,
                "allowedTools": list(self.allowed_tools), "metadata": self.metadata, "source": self.source,
                "path": self.path}

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "instructions": self.instructions}


def parse_skill(text: str, *, source: str = "builtin", path: str = "") -> Skill:
    """A Skill from SKILL.md text; InvalidArgument names what is missing or malformed."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise InvalidArgument("frontmatter", "a SKILL.md starts with a --- line")
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise InvalidArgument("frontmatter", "no closing --- line") from None
    values, lists, metadata = _frontmatter(lines[1:end])
    name = str(values.pop("name", "")).strip().lower()
    if not _NAME.match(name):
        raise InvalidArgument("name", "required: 1-100 of a-z, 0-9, '.', '_' or '-'")
    description = str(values.pop("description", "")).strip()
    if not description:
        raise InvalidArgument("description", "required")
    tools = lists.get("allowed-tools", lists.get("allowed_tools", []))
    for key in ("allowed-tools", "allowed_tools"):
        if key in values:
            tools = [t.strip() for t in str(values.pop(key)).split(",") if t.strip()]
    license_ = str(values.pop("license", "")).strip()
    return Skill(name, description, "\n".join(lines[end + 1:]).strip(), tuple(tools), license_,
                 {**values, **metadata}, source, path)


def _frontmatter(lines: list[str]) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, Any]]:
    """(scalar keys, dash lists, the `metadata` block) of YAML-like frontmatter lines."""
    values: dict[str, Any] = {}
    lists: dict[str, list[str]] = {}
    metadata: dict[str, Any] = {}
    current: str | None = None
    for raw in lines:
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indented = raw[:1] in (" ", "\t")
        line = raw.strip()
        if indented and current is not None:
            if line.startswith("- "):
                lists.setdefault(current, []).append(_unquote(line[2:]))
            elif current == "metadata" and ":" in line:
                key, _, value = line.partition(":")
                metadata[key.strip()] = _unquote(value)
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise InvalidArgument("frontmatter", f"expected key: value, got {line!r}")
        current = key.strip()
        if value.strip():
            values[current] = _unquote(value)
    return values, lists, metadata


def _unquote(value: str) -> str:
    value = value.strip()
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value


def _builtin(name: str, description: str, tools: tuple[str, ...], instructions: str) -> Skill:
    return Skill(name, description, instructions, tools, "Apache-2.0")


BUILTIN_SKILLS: tuple[Skill, ...] = (
    _builtin("incident-response", "run an incident from first report to follow-up",
             ("http_client", "log_viewer", "todo_manager"),
             "1. State the impact in one sentence: who is affected and since when.\n2. Stabilise before you "
             "diagnose: roll back, fail over or shed load when it is safe.\n3. Keep a timeline of what was seen "
             "and done, with times.\n4. Name one owner per open action.\n5. End with the follow-ups that stop a "
             "repeat."),
    _builtin("code-audit", "review code for correctness and security, worst first",
             ("file_system", "code_search", "secret_redactor"),
             "Read the code that changed and what calls it. List, worst first: data loss, security holes "
             "(injection, traversal, secrets in code or logs), wrong results, missing tests, then style. Quote "
             "the lines you mean and say how to fix each."),
    _builtin("release-readiness", "decide whether a release can ship", ("text_stats",),
             "Check: the tests that matter pass, migrations are reversible or rehearsed, the rollback is known, "
             "dashboards and alerts cover the change, and the notes say what users will see. Answer ship, ship "
             "with conditions, or hold, with the reason."),
)


def skill_dirs(config: Any) -> list[Path]:
    """The folders skills are loaded from, in order."""
    if config.skill_dirs:
        return [Path(p).expanduser() for p in config.skill_dirs.split(os.pathsep) if p.strip()]
    return [Path("skills"), Path(".github/skills"), Path(".agents/skills"), Path(config.home) / "skills"]


class SkillRegistry:
    """Skills from `folders` (read at each call, so a skill added on disk is seen) and the built-ins."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = folders

    def all(self) -> list[Skill]:
        """Every skill by name (a folder skill shadows a built-in one of the same name)."""
        found: dict[str, Skill] = {}
        for skill in (*self._from_folders(), *BUILTIN_SKILLS):
            found.setdefault(skill.name, skill)
        return [found[name] for name in sorted(found)]

    def get(self, name: str) -> Skill:
        """The skill named `name`; NotFound when there is none."""
        wanted = name.strip().lower()
        for skill in self.all():
            if skill.name == wanted:
                return skill
        raise NotFound("skill", name)

    def _from_folders(self) -> list[Skill]:
        skills = []
        for folder in self.folders:
            for sub in _SUBFOLDERS:
                base = folder / sub if sub else folder
                for path in sorted(base.glob("*/SKILL.md")) if base.is_dir() else ():
                    try:
                        if path.stat().st_size > _MAX_FILE:
                            raise InvalidArgument("SKILL.md", f"larger than {_MAX_FILE} bytes")
                        skills.append(parse_skill(path.read_text(encoding="utf-8"), source="folder",
                                                  path=str(path)))
                    except (OSError, UnicodeDecodeError, InvalidArgument) as exc:
                        logger.warning("skill file {} skipped: {}", path, exc)
        return skills
