"""`agentstage prompts ...` through the CLI's entry point: list, show, render, add, remove on the prompt folder the API
reads; a bad name, file or variable is one line and exit 2."""

from __future__ import annotations

import json

from agentstage.runtime.prompts import PromptRegistry


def test_add_show_render_and_remove_a_prompt(cli, tmp_path) -> None:
    spec = tmp_path / "triage.json"
    spec.write_text(json.dumps({"version": "v2", "system": "Help with {{service}} in {{env}}", "tags": ["ops"]}))
    assert cli("prompts", "add", str(spec)) == (0, "saved triage@v2\n", "")
    code, out, _ = cli("prompts", "show", "triage", "--json")
    assert code == 0 and json.loads(out)["variables"] == ["env", "service"]
    assert cli("prompts", "render", "triage", "--var", "service=checkout", "--var", "env=prod") == (
        0, "Help with checkout in prod\n", "")
    assert PromptRegistry(tmp_path / "home" / "prompts").get("triage@v2").tags == ("ops",), \
        "the file is where the API and the facade read prompts"
    assert cli("prompts", "remove", "triage") == (0, "removed triage@v2\n", "")
    assert cli("prompts", "show", "triage")[0] == 2


def test_the_built_ins_are_listed_and_render_with_their_variables(cli) -> None:
    code, out, _ = cli("prompts", "list", "--json")
    refs = {p["ref"]: p for p in json.loads(out)}
    assert code == 0 and {"default@v1", "sre@v1", "summarizer@v1"} <= set(refs) and refs["sre@v1"]["builtin"]
    assert "checkout" in cli("prompts", "render", "sre", "--var", "service=checkout")[1]


def test_bad_input_is_one_line_and_exit_2(cli, tmp_path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    nameless = tmp_path / "x.json"
    nameless.write_text(json.dumps({"name": "../../etc/passwd", "system": "s"}))
    for args, says in ((("render", "sre"), "input: missing variables: service"),
                       (("render", "sre", "--var", "novalue"), "--var: expected NAME=VALUE"),
                       (("show", "../secrets"), "ref: names and versions"),
                       (("add", str(broken)), "not JSON"), (("add", str(nameless)), "name: names and versions"),
                       (("add", str(tmp_path / "missing.json")), "cannot read"),
                       (("remove", "default"), "built-in prompts cannot be removed")):
        code, out, err = cli("prompts", *args)
        assert code == 2 and out == "" and err.count("\n") == 1 and says in err, (args, err)
