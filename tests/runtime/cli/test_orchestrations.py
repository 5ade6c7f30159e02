"""`agentstage orchestrations ...` through the CLI's entry point: patterns, add, list, show and remove on the workflow
directory `graph-run`, the API and workers read; a bad file or name is one line and exit 2."""

from __future__ import annotations

import json

from agentstage.runtime.workflow import WorkflowRegistry

PAIR = {"name": "pair", "pattern": "parallel", "agents": ["default", "secops"], "aggregator": "default"}


def test_patterns_are_listed_with_their_fields(cli) -> None:
    code, out, _ = cli("orchestrations", "patterns", "--json")
    patterns = {p["name"]: p for p in json.loads(out)}
    assert code == 0 and list(patterns) == ["sequential", "parallel", "router", "supervisor", "debate", "consensus"]
    assert [f["name"] for f in patterns["supervisor"]["fields"]] == ["lead", "workers", "max_concurrency"]
    code, out, _ = cli("orchestrations", "patterns")
    assert code == 0 and "  rounds           integer (optional, default 2): rounds of arguments (1-10)\n" in out


def test_add_list_show_run_and_remove(cli, tmp_path) -> None:
    spec = tmp_path / "pair.json"
    spec.write_text(json.dumps(PAIR))
    code, out, err = cli("orchestrations", "add", str(spec))
    stored = tmp_path / "home" / "workflows" / "pair.json"
    assert (code, err) == (0, "") and out.startswith(f"saved pair (parallel) to {stored};")
    assert WorkflowRegistry().load_dir(stored.parent) == ["pair"], "the file is where Systems load workflows"
    code, out, _ = cli("orchestrations", "list", "--json")
    (listed,) = json.loads(out)
    assert code == 0 and listed["valid"] and listed["definition"] == {**PAIR, "description": ""}
    code, out, _ = cli("orchestrations", "show", "pair")
    assert code == 0 and '"aggregator": "default"' in out and "flowchart TD" in out
    code, out, _ = cli("graph-run", "--workflow", "pair", "--json", "--", "what is 6 * 7")
    result = json.loads(out)
    assert code == 0 and result["status"] == "completed" and result["trace"] == ["answers", "merge"]
    assert cli("orchestrations", "remove", "pair") == (0, f"removed pair ({stored})\n", "")
    assert not stored.exists() and cli("orchestrations", "list") == (0, "", "")


def test_the_name_defaults_to_the_file_stem(cli, tmp_path) -> None:
    spec = tmp_path / "relay.json"
    spec.write_text(json.dumps({"pattern": "sequential", "agents": ["default", "default"]}))
    assert cli("orchestrations", "add", str(spec))[0] == 0
    code, out, _ = cli("orchestrations", "show", "relay", "--json")
    assert code == 0 and json.loads(out)["definition"]["name"] == "relay"


def test_bad_input_is_one_line_and_exit_2(cli, tmp_path) -> None:
    def written(name: str, body: object) -> str:
        path = tmp_path / name
        path.write_text(body if isinstance(body, str) else json.dumps(body))
        return str(path)

    taken = written("pair.json", PAIR)
    assert cli("orchestrations", "add", taken)[0] == 0
    for args, says in (
            (("add", written("broken.json", "{not json")), "not JSON"),
            (("add", str(tmp_path / "missing.json")), "cannot read"),
            (("add", written("ghost.json", {"pattern": "debate", "agents": ["default", "ghost"]})),
             "judge: required for debate orchestrations; agents[1]: unknown agent 'ghost'"),
            (("add", written("list.json", [PAIR])), "$: a definition must be a JSON object"),
            (("add", written("triage.json", {"pattern": "sequential", "agents": ["default"]})),
             "a workflow named 'triage' exists"),
            (("add", taken), "a workflow named 'pair' exists"),
            (("show", "ghost"), "unknown orchestration: ghost"),
            (("remove", "triage"), "unknown orchestration: triage")):
        code, out, err = cli("orchestrations", *args)
        assert code == 2 and out == "" and err.count("\n") == 1 and says in err, (args, err)
