"""Skill routes at the reference's paths: the list and one skill for any key; installing over HTTP is a 405
that says where skills come from (nothing is fetched from the network)."""

from __future__ import annotations


def test_skills_are_listed_in_the_reference_shape_and_read_with_instructions(client, keys, api_system) -> None:
    folder = api_system.skills.folders[-1]
    (folder / "triage").mkdir(parents=True)
    (folder / "triage" / "SKILL.md").write_text("---\nname: triage\ndescription: sort reports\nallowed-tools:\n"
                                                "  - log_viewer\n---\nSort by impact.")
    listed = client.simulate_get("/api/v1/skills", headers=keys.headers("viewer")).json
    by_name = {s["name"]: s for s in listed["skills"]}
    assert listed["count"] == len(listed["skills"]) and "code-audit" in by_name
    assert by_name["triage"] == {"name": "triage", "description": "sort reports", "license": "",
                                 "allowedTools": ["log_viewer"], "metadata": {}, "source": "folder",
                                 "path": str(folder / "triage" / "SKILL.md")}
    one = client.simulate_get("/api/v1/skills/triage", headers=keys.headers("viewer")).json
    assert one["instructions"] == "Sort by impact."
    assert client.simulate_get("/api/v1/skills/nothing", headers=keys.headers("viewer")).status_code == 404


def test_installing_from_a_repository_is_refused_without_any_network_call(client, keys) -> None:
    result = client.simulate_post("/api/v1/skills", json={"repoUrl": "https://github.com/example/skills"},
                                  headers=keys.headers("operator"))
    assert result.status_code == 405 and "AGENTSTAGE_SKILL_DIRS" in result.json["description"]
    assert result.headers["allow"] == "GET"
