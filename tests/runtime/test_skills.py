"""SKILL.md skills: frontmatter parsed as the reference writes it, folders scanned with their subfolders, the
first skill of a name wins, bad files are skipped with the reason, nothing comes from the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentstage.runtime.errors import InvalidArgument, NotFound
from agentstage.runtime.skills import SkillRegistry, parse_skill

SKILL = """---
name: K8s-Debug
description: "debug a failing Kubernetes workload"
license: MIT
allowed-tools:
  - kubectl
  - log_viewer
metadata:
  owner: platform
  version: 2
origin: learned
---
# Debugging

Start with `kubectl describe`.
"""


def write(folder: Path, name: str, text: str) -> Path:
    (folder / name).mkdir(parents=True)
    path = folder / name / "SKILL.md"
    path.write_text(text)
    return path


def test_frontmatter_and_instructions_are_read_as_the_reference_writes_them() -> None:
    skill = parse_skill(SKILL, source="folder", path="/x/SKILL.md")
    assert (skill.name, skill.description, skill.license) == ("k8s-debug", "debug a failing Kubernetes workload", "MIT")
    assert skill.allowed_tools == ("kubectl", "log_viewer")
    assert skill.metadata == {"owner": "platform", "version": "2", "origin": "learned"}
    assert skill.instructions == "# Debugging\n\nStart with `kubectl describe`."
    inline = parse_skill("---\nname: x\ndescription: y\nallowed_tools: a, b\n---\nbody")
    assert inline.allowed_tools == ("a", "b")


@pytest.mark.parametrize(("text", "field"), [
    ("no frontmatter", "frontmatter"), ("---\nname: x\ndescription: y\n", "frontmatter"),
    ("---\ndescription: y\n---\n", "name"), ("---\nname: ../../x\ndescription: y\n---\n", "name"),
    ("---\nname: x\n---\n", "description"), ("---\nname x\n---\n", "frontmatter"),
])
def test_a_malformed_skill_names_what_is_wrong(text, field) -> None:
    with pytest.raises(InvalidArgument) as bad:
        parse_skill(text)
    assert bad.value.field == field


def test_folders_and_their_subfolders_are_scanned_and_the_first_name_wins(tmp_path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write(first, "debug", SKILL)
    write(first / ".curated", "triage", "---\nname: triage\ndescription: curated one\n---\n")
    write(second, "again", SKILL.replace("debug a failing", "a shadowed"))
    write(second, "code-audit", "---\nname: code-audit\ndescription: ours\n---\nour audit")
    write(second, "broken", "---\nname: broken\n")
    registry = SkillRegistry([first, second, tmp_path / "missing"])
    names = [s.name for s in registry.all()]
    assert {"k8s-debug", "triage", "code-audit", "incident-response", "release-readiness"} <= set(names)
    assert "broken" not in names and names == sorted(names)
    assert registry.get("K8S-DEBUG").description == "debug a failing Kubernetes workload"
    assert (registry.get("code-audit").source, registry.get("code-audit").instructions) == ("folder", "our audit")
    assert registry.get("incident-response").source == "builtin"
    with pytest.raises(NotFound):
        registry.get("nothing")


def test_a_skill_added_on_disk_is_seen_without_a_restart(tmp_path) -> None:
    registry = SkillRegistry([tmp_path])
    assert "k8s-debug" not in {s.name for s in registry.all()}
    write(tmp_path, "debug", SKILL)
    assert registry.get("k8s-debug").path == str(tmp_path / "debug" / "SKILL.md")
