"""`agentstage runs show` and `run --json`: tool results as JSON, graph timelines with node names."""

from __future__ import annotations

import json
import re


def _run_id(err: str) -> str:
    return err.split("run_id: ")[1].split()[0]


def test_run_json_lists_tool_calls_with_their_results(cli) -> None:
    code, out, _ = cli("run", "--json", "--", "What time is it?")
    result = json.loads(out)
    assert code == 0 and [call["tool"] for call in result["tool_calls"]] == ["current_time"]
    call = result["tool_calls"][0]
    assert call["arguments"] == {} and call["error"] is None and {"iso", "timezone"} <= set(call["result"])


def test_runs_show_prints_tool_results_as_json(cli) -> None:
    code, out, _ = cli("run", "--json", "--", "What time is it?")
    run_id = json.loads(out)["run_id"]
    code, out, _ = cli("runs", "show", run_id)
    line = next(line for line in out.splitlines() if "tool.result" in line)
    assert code == 0 and 'current_time -> {"' in line and "{'" not in line


def test_runs_show_names_the_nodes_of_a_graph_run(cli) -> None:
    code, _, err = cli("graph-run", "--workflow", "triage", "--", "calculate 2 + 3")
    code, out, _ = cli("runs", "show", _run_id(err))
    assert code == 0 and "run.started   workflow triage" in out
    assert "node.entered  step 1 measure (tool)" in out
    assert "node.exited   step 1 measure -> route (tool text_stats; wrote stats)" in out
    assert "node.exited   step 2 route -> solve (route 'calculate 2 + 3')" in out
    assert "checkpoint.saved step 0 at start, next measure" in out
    assert "checkpoint.saved step 2 after route, next solve" in out
    assert "node.exited   step 3 solve -> end (wrote answer, output; child run " in out


def test_runs_show_says_where_a_graph_run_waits(cli) -> None:
    code, _, err = cli("graph-run", "--workflow", "ask", "--", "start")
    code, out, _ = cli("runs", "show", _run_id(err))
    assert code == 0 and "run.waiting   step 1 at ask: which expression should I calculate?" in out


def test_runs_show_of_a_child_run_names_its_graph_run_and_node_and_call_durations(cli) -> None:
    code, _, err = cli("graph-run", "--workflow", "triage", "--", "calculate 2 + 3")
    graph_run = _run_id(err)
    code, out, _ = cli("runs", "show", f"{graph_run}.3")
    lines = out.splitlines()
    assert code == 0 and "agent=default" in lines[0] and "seconds=" in lines[0]
    assert lines[1] == f"part of graph run {graph_run} at node solve (step 3)"
    assert re.search(r"llm\.response  asks for calculator  \(\d+\.\d ms\)$", out, re.MULTILINE), out
    assert re.search(r"tool\.result   calculator -> .*  \(\d+\.\d ms\)$", out, re.MULTILINE), out
    code, out, _ = cli("runs", "show", graph_run)
    assert "workflow=triage" in out.splitlines()[0] and "part of" not in out
