"""Fan-out checkpoints hold one branch each; reading one joins the results finished up to its step, and a
map over many items writes checkpoint bytes in proportion to the items, not their square."""

from __future__ import annotations

from agentstage.runtime import Config, System
from agentstage.runtime.graph import Graph
from agentstage.runtime.graph.nodes import MapNode, ToolNode
from agentstage.runtime.state.fanout_state import FANOUT_KEY, advanced, merged, partial_progress
from agentstage.runtime.tools.registry import Tool

TEXT = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}


def row(step: int, state: dict) -> dict:
    return {"step": step, "node": "each", "next_node": "each", "state": state}


BASE = row(3, {"words": ["a", "b", "c"], "input": "x"})
BRANCHES = {s: row(s, partial_progress("each", 4, {f"each[{s - 4}]": s})) for s in (4, 5, 6)}
ROWS = {3: BASE, **BRANCHES}


def earlier(first: int, last: int) -> list[dict]:
    return [r for s, r in ROWS.items() if first <= s <= last]


def test_reading_a_branch_checkpoint_gives_the_state_and_the_branches_finished_up_to_it() -> None:
    latest = merged(BRANCHES[6], earlier)
    assert latest["state"] == {"words": ["a", "b", "c"], "input": "x",
                               FANOUT_KEY: {"node": "each", "step": 4,
                                            "done": {"each[0]": 4, "each[1]": 5, "each[2]": 6}}}
    assert merged(BRANCHES[5], earlier)["state"][FANOUT_KEY]["done"] == {"each[0]": 4, "each[1]": 5}
    assert merged(BASE, earlier) is BASE


def test_a_fork_copy_of_a_full_checkpoint_seeds_the_results_of_its_later_branches() -> None:
    fork = row(0, {"words": ["a", "b", "c"], FANOUT_KEY: {"node": "each", "step": 4, "done": {"each[0]": "A"}}})
    branch = row(1, partial_progress("each", 4, {"each[1]": "B"}))
    latest = merged(branch, lambda first, last: [fork, branch])
    assert latest["state"] == {"words": ["a", "b", "c"],
                               FANOUT_KEY: {"node": "each", "step": 4, "done": {"each[0]": "A", "each[1]": "B"}}}


def test_a_branch_of_another_fan_out_starts_its_results_afresh() -> None:
    other = row(5, partial_progress("other", 5, {"x": 1}))
    latest = merged(other, lambda first, last: [BASE, BRANCHES[4], other])
    assert latest["state"][FANOUT_KEY]["done"] == {"x": 1} and latest["state"]["input"] == "x"


def test_the_coordinators_running_checkpoint_accumulates_the_branches() -> None:
    current = BASE
    for step in (4, 5, 6):
        current = advanced(current, BRANCHES[step])
    assert current["step"] == 6 and current["state"] == merged(BRANCHES[6], earlier)["state"]
    assert "partial" not in current["state"][FANOUT_KEY]
    after = row(7, {"words": [], "done": [4, 5, 6]})
    assert advanced(current, after) is after


def test_a_wide_map_writes_checkpoint_bytes_in_proportion_to_its_items(config: Config) -> None:
    items, answer = 200, "x" * 500
    node = MapNode("each", items="words", node=ToolNode("each", "pad", args_from={"text": "item"}),
                   max_concurrency=4, output_key="done")
    with System(config) as system:
        system.tools.register(Tool("pad", "a long answer", TEXT, lambda text: f"{text}:{answer}"))
        system.register_workflow("wide", Graph("wide").add(node).entry("each"))
        result = system.graph_run("wide", "go", state={"words": [f"w{i}:{answer}" for i in range(items)]})
        written = sum(c["state_bytes"] for c in system.reader().checkpoints(result.run_id))
    assert result.status == "completed" and len(result.state["done"]) == items
    one_result = len(f"w0:{answer}:{answer}")
    assert written < 6 * items * one_result, f"{written} bytes of checkpoints for {items} results"
