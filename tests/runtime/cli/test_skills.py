"""`agentstage skills list|show` through the CLI's entry point: folder skills and built-ins; an unknown name is
one line and exit 2."""

from __future__ import annotations

import json


def test_a_folder_skill_is_listed_and_shown_beside_the_built_ins(cli, tmp_path) -> None:
    (tmp_path / "skills" / "triage").mkdir(parents=True)
    (tmp_path / "skills" / "triage" / "SKILL.md").write_text("---\nname: triage\ndescription: sort reports\n---\n"
                                                             "Sort by impact.")
    code, out, _ = cli("skills", "list", "--json")
    sources = {s["name"]: s["source"] for s in json.loads(out)}
    assert code == 0 and sources["triage"] == "folder" and sources["code-audit"] == "builtin"
    code, out, _ = cli("skills", "show", "triage")
    assert code == 0 and out.endswith("Sort by impact.\n")
    code, out, err = cli("skills", "show", "nothing")
    assert (code, out) == (2, "") and err == "agentstage: unknown skill: nothing\n"
