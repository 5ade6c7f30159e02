"""Prompt routes at the reference's paths: list, save, read, render (stored or inline), validate, delete;
4xx answers name the field; saves and deletes are audited; a viewer reads and renders, an operator changes."""

from __future__ import annotations

import pytest

PROMPTS = "/api/v1/prompts"


def save(client, keys, body: dict, role: str = "operator"):
    return client.simulate_post(PROMPTS, json=body, headers=keys.headers(role))


def audit_rows(api_system) -> list[tuple[str, str, str]]:
    return list(api_system.reader().connection.execute(
        "SELECT action, target, role FROM audit_log WHERE action LIKE 'prompt.%' ORDER BY ts"))


def test_the_reference_clients_inline_render_works_as_written(client, keys) -> None:
    body = {"name": "incident-triage", "version": "v1", "system": "You are helping with {{service}} in {{env}}",
            "input": {"service": "checkout", "env": "prod"}}
    result = client.simulate_post(f"{PROMPTS}/render", json=body, headers=keys.headers("viewer"))
    assert result.status_code == 200, result.text
    assert result.json == {"ref": "incident-triage@v1", "rendered": "You are helping with checkout in prod"}


def test_a_saved_prompt_is_listed_read_rendered_and_its_greatest_version_is_the_default(client, keys,
                                                                                      api_system) -> None:
    assert save(client, keys, {"spec": {"name": "Triage", "version": "v2", "system": "v2 {{service}}",
                                        "tags": ["ops"]}}).status_code == 201
    saved = save(client, keys, {"name": "triage", "version": "v10", "system": "v10 {{service}}"})
    assert saved.status_code == 201 and saved.json["prompt"]["ref"] == "triage@v10"
    listed = client.simulate_get(PROMPTS, headers=keys.headers("viewer")).json
    assert {"name": "triage", "version": "v2", "description": "", "tags": ["ops"], "ref": "triage@v2"} in \
        listed["prompts"] and listed["count"] == len(listed["prompts"])
    assert client.simulate_get(f"{PROMPTS}/triage", headers=keys.headers("viewer")).json["version"] == "v10"
    one = client.simulate_get(f"{PROMPTS}/triage@v2", headers=keys.headers("viewer")).json
    assert (one["system"], one["variables"], one["builtin"]) == ("v2 {{service}}", ["service"], False)
    rendered = client.simulate_post(f"{PROMPTS}/render", json={"ref": "triage", "input": {"service": "api"}},
                                    headers=keys.headers("viewer"))
    assert rendered.json == {"ref": "triage@v10", "rendered": "v10 api"}
    assert api_system.prompts.render("triage@v2", {"service": "x"}) == "v2 x", "the facade sees the same registry"
    assert audit_rows(api_system) == [("prompt.upsert", "triage@v2", "operator"),
                                      ("prompt.upsert", "triage@v10", "operator")]


def test_missing_variables_are_all_named_under_input(client, keys) -> None:
    result = client.simulate_post(f"{PROMPTS}/render", json={"ref": "sre"}, headers=keys.headers("viewer"))
    assert result.status_code == 422 and result.json["errors"] == {"input": ["missing variables: service"]}


def test_delete_removes_a_version_or_every_version_and_built_ins_stay(client, keys, api_system) -> None:
    for version in ("v1", "v2"):
        save(client, keys, {"name": "gone", "version": version, "system": "x"})
    one = client.simulate_delete(f"{PROMPTS}/gone@v1", headers=keys.headers("operator"))
    assert one.json == {"ok": True, "removed": ["gone@v1"]}
    assert client.simulate_delete(f"{PROMPTS}/gone", headers=keys.headers("operator")).json["removed"] == ["gone@v2"]
    assert client.simulate_get(f"{PROMPTS}/gone", headers=keys.headers("viewer")).status_code == 404
    builtin = client.simulate_delete(f"{PROMPTS}/default", headers=keys.headers("operator"))
    assert builtin.status_code == 409 and "built-in" in builtin.json["description"]
    assert audit_rows(api_system)[-1] == ("prompt.delete", "gone", "operator")


def test_validate_answers_the_normalised_spec_and_saves_nothing(client, keys) -> None:
    result = client.simulate_post(f"{PROMPTS}/validate", json={"spec": {"name": "Checked", "system": "hi {{x}}"}},
                                  headers=keys.headers("viewer"))
    assert result.json["valid"] and result.json["spec"]["ref"] == "checked@v1"
    assert client.simulate_get(f"{PROMPTS}/checked", headers=keys.headers("viewer")).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "../../etc/passwd", "system": "x"}, "name"), ({"name": "x", "version": "v1/../..", "system": "x"}, "version"),
    ({"name": "x"}, "system"), ({"name": "x", "system": "s", "tags": [1]}, "tags"), ({}, "name"),
    ({"name": "x", "system": "s" * 100_001}, "system"), ({"spec": "not an object"}, "spec"),
])
def test_a_bad_spec_is_a_422_naming_the_field_and_writes_no_file(client, keys, api_system, body, field) -> None:
    result = save(client, keys, body)
    assert result.status_code == 422 and field in result.json["errors"], result.text
    folder = api_system.prompts.folder
    assert not folder.exists() or not list(folder.iterdir())


def test_hostile_refs_in_the_path_are_refused(client, keys) -> None:
    for ref in ("..", "%2e%2e%2fsecrets", "a@", "x@..%2f"):
        result = client.simulate_get(f"{PROMPTS}/{ref}", headers=keys.headers("viewer"))
        assert result.status_code in (404, 422), (ref, result.text)


def test_a_viewer_reads_and_renders_but_cannot_save_or_delete(client, keys) -> None:
    assert save(client, keys, {"name": "x", "system": "y"}, role="viewer").status_code == 403
    assert client.simulate_delete(f"{PROMPTS}/default", headers=keys.headers("viewer")).status_code == 403
