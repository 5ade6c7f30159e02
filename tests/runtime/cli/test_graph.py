"""`graph-run`, `graph-resume`, `graph-fork` and `workflows` through the CLI entry point."""

from __future__ import annotations

import json
import re
from pathlib import Path

REVIEW = {"name": "review", "entry": "ask", "nodes": [
    {"name": "ask", "kind": "human", "prompt": "Which sum?", "output_key": "question"},
    {"name": "solve", "kind": "tool", "tool": "calculator", "args_from": {"expression": "question"}}],
    "edges": [{"from": "ask", "to": "solve"}]}


def test_graph_run_prints_the_answer_and_json(cli) -> None:
    code, out, err = cli("graph-run", "--workflow", "triage", "--progress", "--", "calculate", "2 + 3")
    assert (code, out) == (0, "2 + 3 = 5\n") and "run_id: " in err
    assert re.search(r"  step 2: route -> solve  \(\d+\.\d\ds\)\n", err), err
    assert re.search(r"  step 3: solve -> end  \(\d+\.\d\ds\)\n  run.completed\n", err), err
    code, out, _ = cli("graph-run", "--workflow", "triage", "--json", "--", "hello")
    result = json.loads(out)
    assert code == 0 and result["status"] == "completed" and result["trace"] == ["measure", "route", "chat"]


def test_human_input_through_graph_resume(cli, tmp_path: Path) -> None:
    (tmp_path / "review.json").write_text(json.dumps(REVIEW))
    code, out, err = cli("graph-run", "--workflow", "review.json", "--", "start")
    assert code == 0 and out == "" and "waiting for input at node 'ask': Which sum?" in err
    run_id = err.split("graph-resume ")[1].split()[0]
    code, out, _ = cli("graph-resume", run_id, "--input", "6 * 7", "--json")
    assert code == 0 and json.loads(out)["state"]["solve"] == {"expression": "6 * 7", "result": 42}
    code, out, err = cli("graph-resume", run_id)
    assert code == 0 and "already completed" in err
    code, out, _ = cli("graph-fork", run_id, "--step", "1", "--set", 'question="1 + 1"', "--json")
    forked = json.loads(out)
    assert code == 0 and forked["run_id"] != run_id and forked["state"]["solve"]["result"] == 2


def test_builtin_ask_waits_for_input_then_calculates(cli) -> None:
    code, out, err = cli("graph-run", "--workflow", "ask", "--", "start")
    assert code == 0 and out == "" and "waiting for input at node 'ask': which expression" in err
    run_id = err.split("graph-resume ")[1].split()[0]
    code, out, _ = cli("graph-resume", run_id, "--input", "6 * 7", "--json")
    result = json.loads(out)
    assert code == 0 and result["status"] == "completed" and result["state"]["answer"]["result"] == 42


def test_graph_run_prints_the_path_and_what_tool_nodes_found(cli) -> None:
    report = Path(__file__).resolve().parents[3] / "examples" / "secops" / "trivy-shop-api.json"
    code, out, err = cli("graph-run", "--workflow", "secops", "--input-file", str(report))
    assert code == 0 and out.strip()
    assert "path: route -> parse_trivy -> build_trivy_prompt -> assistant_trivy -> finalize\n" in err
    assert ("  categorized: artifactName registry.example.com/shop/api:1.4.2, critical 2, high 2, mediumCount 4, "
            "lowCount 3, totalCount 11, rejects 0\n") in err
    code, out, err = cli("graph-run", "--workflow", "triage", "--", "calculate 2 + 3")
    assert out == "2 + 3 = 5\n" and "  stats: characters 15, words 3," in err


def test_a_failed_run_exits_1_and_resume_retries_it(cli, tmp_path: Path) -> None:
    broken = dict(REVIEW, name="broken", entry="solve", nodes=[REVIEW["nodes"][1]], edges=[])
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    code, _, err = cli("graph-run", "--workflow", "broken.json", "--", "x")
    assert code == 1 and "node 'solve' failed: state has no key 'question'" in err
    run_id = err.split("run ")[1].split()[0]
    code, out, _ = cli("graph-resume", run_id, "--json")
    assert code == 1 and json.loads(out)["status"] == "failed"


def test_invalid_input_gets_one_clear_message_and_exit_2(cli, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"name": "bad", "entry": "a", "nodes": [
        {"name": "a", "kind": "tool"}, {"name": "b", "kind": "router", "routes": {"x": "a"}}]}))
    code, _, err = cli("graph-run", "--workflow", "bad.json", "--", "x")
    assert code == 2 and "invalid workflow (2 problems)" in err
    assert "  nodes[0].tool: required for tool nodes" in err and "  nodes[1].default: required for router nodes" in err
    assert cli("graph-run", "--workflow", "triage", "--", " ")[0] == 2
    code, _, err = cli("graph-resume", "missing")
    assert code == 2 and "unknown run: missing" in err
    assert cli("graph-fork", "x", "--step", "1", "--set", "novalue")[0] == 2


def test_workflows_list_and_show(cli, tmp_path: Path) -> None:
    (tmp_path / "home" / "workflows").mkdir(parents=True)
    (tmp_path / "home" / "workflows" / "review.json").write_text(json.dumps(REVIEW))
    (tmp_path / "home" / "workflows" / "bad.json").write_text("{")
    code, out, _ = cli("workflows", "list")
    lines = out.splitlines()
    assert code == 0 and [line.split()[0] for line in lines] == [
        "ask", "basic", "chain", "map-reduce", "review", "router", "secops", "summary-memory", "triage", "bad"]
    assert "INVALID" in lines[9] and "not JSON" in lines[9]
    code, out, _ = cli("workflows", "show", "review")
    assert code == 0 and out.startswith("flowchart TD") and '(\"ask: wait for input\")' in out
    code, out, _ = cli("workflows", "show", "review", "--json")
    assert code == 0 and json.loads(out)["nodes"][1]["tool"] == "calculator"
    code, _, err = cli("workflows", "show", "nope")
    assert code == 2 and "unknown workflow: nope" in err
    reference = {"name": "ref", "start": "a", "nodes": [{"id": "a", "kind": "output", "template": "{{input}}!"}]}
    (tmp_path / "home" / "workflows" / "ref.json").write_text(json.dumps(reference))
    code, out, _ = cli("workflows", "show", "ref", "--json")
    assert code == 0 and json.loads(out) == reference
    code, out, _ = cli("graph-run", "--workflow", "ref", "--json", "--", "hey")
    assert code == 0 and json.loads(out)["output"] == "hey!"
