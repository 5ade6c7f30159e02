"""The prompt registry: name@version refs, the greatest version by default, strict rendering, files in one
folder shared by every process, built-ins that cannot be overwritten or removed."""

from __future__ import annotations

import json

import pytest

from agentstage.runtime.errors import InvalidArgument, NotFound, Refused
from agentstage.runtime.prompts import PromptRegistry, PromptSpec, parse_ref, render_prompt


def spec(name: str = "triage", version: str = "v1", system: str = "Help with {{service}} in {{env}}.") -> PromptSpec:
    return PromptSpec.from_dict({"name": name, "version": version, "system": system, "tags": ["ops"]})


def test_rendering_fills_every_variable_and_names_all_missing_ones() -> None:
    assert render_prompt("Help {{ service }} in {{env}}: {{n}}", {"service": "checkout", "env": "prod", "n": 3}) == \
        "Help checkout in prod: 3"
    with pytest.raises(InvalidArgument, match="missing variables: env, service") as missing:
        render_prompt("{{service}} {{env}} {{x}}", {"x": 1})
    assert missing.value.field == "input"


def test_refs_are_lower_cased_and_hostile_names_are_refused() -> None:
    assert parse_ref("Triage@V2") == ("triage", "v2") and parse_ref("triage") == ("triage", None)
    for bad in ("../../etc/passwd", "a/b", "", "@v1", "x@", "x@../y", "-x", "a b"):
        with pytest.raises(InvalidArgument):
            parse_ref(bad)


def test_a_bare_name_means_its_greatest_version_with_numbers_compared_as_numbers(tmp_path) -> None:
    registry = PromptRegistry(tmp_path)
    for version in ("v2", "v10", "v9"):
        registry.upsert(spec(version=version, system=f"{version} for {{{{service}}}}"))
    assert registry.get("triage").version == "v10" and registry.get("triage@v9").system == "v9 for {{service}}"
    assert [s.ref for s in registry.all() if s.name == "triage"] == ["triage@v2", "triage@v9", "triage@v10"]
    assert registry.render("triage@v2", {"service": "api"}) == "v2 for api"
    with pytest.raises(NotFound):
        registry.get("triage@v3")


def test_files_are_shared_by_registries_on_the_same_folder_and_bad_files_are_skipped(tmp_path) -> None:
    PromptRegistry(tmp_path).upsert(spec())
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "nameless.json").write_text(json.dumps({"system": "from the file name"}))
    other = PromptRegistry(tmp_path)
    assert other.get("triage@v1").tags == ("ops",) and other.get("nameless").system == "from the file name"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".spec-")], "no temporary file is left"


def test_delete_removes_one_version_or_all_and_built_ins_stay(tmp_path) -> None:
    registry = PromptRegistry(tmp_path)
    registry.upsert(spec(version="v1"))
    registry.upsert(spec(version="v2"))
    assert registry.delete("triage@v1") == ["triage@v1"] and registry.get("triage").version == "v2"
    assert registry.delete("triage") == ["triage@v2"]
    with pytest.raises(NotFound):
        registry.get("triage")
    with pytest.raises(Refused, match="built-in"):
        registry.delete("default")
    with pytest.raises(Refused, match="built-in"):
        registry.upsert(spec(name="default", system="overwritten"))
    assert registry.get("default").builtin


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x"}, "system"), ({"name": "x", "system": "  "}, "system"), ({"name": "../x", "system": "s"}, "name"),
    ({"name": "x", "version": "v/1", "system": "s"}, "version"), ({"name": "x", "system": "s", "tags": "ops"}, "tags"),
    ({"name": "x", "system": "s", "inputSchema": []}, "inputSchema"), ({"name": "x", "system": "s" * 100_001}, "system"),
])
def test_a_bad_spec_names_its_field(body, field) -> None:
    with pytest.raises(InvalidArgument) as bad:
        PromptSpec.from_dict(body)
    assert bad.value.field == field
