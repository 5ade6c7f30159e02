"""Child process of the graph crash tests: resume one run, then start another and pause where told.

    python tests/graph_crash_child.py --db F --effects F [--resume RUN] [--start RUN --seed N --pause K:PHASE]

It prints `RESUMED <json>` after resuming, then `PAUSED` when the new run reaches its K-th
node execution (`node`: before the node's function runs; `call`: inside a side-effecting call,
after its effect happened and before it returns; `effect`: right after a side effect is durably
journalled, before the node's checkpoint) and sleeps until the parent kills it with SIGKILL.
The 10-node graph mixes pure tools, side-effecting tools, function routers and an agent node
whose agent calls a tool.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from agentstage.runtime import AgentSpec, Config, System
from agentstage.runtime.graph import END, AgentNode, Graph, RouterNode, ToolNode
from agentstage.runtime.tools.registry import Tool

RULES = [{"name": "plus", "pattern": r"add five to (\d+)", "tool": "plus5", "arguments": {"value": "{1}"}}]


class Pause:
    """Counts node executions of the run being crashed and blocks the process at the chosen one."""

    def __init__(self, at: int | None = None, phase: str = "node") -> None:
        self.at, self.phase, self.count = at, phase, 0
        self.lock = threading.Lock()

    def node(self) -> None:
        with self.lock:
            self.count += 1
            hit = self.at is not None and self.phase == "node" and self.count == self.at
        if hit:
            self.hold()

    def called(self) -> None:
        if self.at is not None and self.phase == "call" and self.count == self.at:
            self.hold()

    def effect(self) -> None:
        if self.at is not None and self.phase == "effect" and self.count >= self.at:
            self.hold()

    @staticmethod
    def hold() -> None:
        print("PAUSED", flush=True)
        while True:
            time.sleep(60)


def crash_graph(pause: Pause, effects: Path) -> tuple[Graph, list[Tool]]:
    """The 10-node graph and the tools it uses; the tools report to `pause`."""

    def effect(run: str, tag: str, value: int) -> dict[str, Any]:
        pause.node()
        fd = os.open(effects, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{run} {tag}\n".encode())
        finally:
            os.close(fd)
        pause.called()
        return {"tag": tag, "value": value}

    def arithmetic(value: int, factor: int = 1, plus: int = 0) -> int:
        pause.node()
        return value * factor + plus

    def plus5(value: str) -> dict[str, int]:
        pause.node()
        return {"result": int(value) + 5}

    def route(rule):
        def choose(state: dict[str, Any]) -> str:
            pause.node()
            return rule(state["n"])
        return choose

    number = {"type": "object", "properties": {"value": {"type": "integer"}, "factor": {"type": "integer"},
                                               "plus": {"type": "integer"}}, "required": ["value"]}
    tagged = {"type": "object", "properties": {"run": {"type": "string"}, "tag": {"type": "string"},
                                               "value": {"type": "integer"}}, "required": ["run", "tag", "value"]}
    text = {"type": "object", "properties": {"value": {"type": "string"}}, "required": ["value"]}
    tools = [Tool("arith", "value * factor + plus", number, arithmetic),
             Tool("effect", "append a line to the effects file", tagged, effect, side_effects=True),
             Tool("plus5", "add five", text, plus5)]

    def eff(name: str) -> ToolNode:
        return ToolNode(name, "effect", {"tag": name}, {"run": "input", "value": "n"}, name)

    graph = Graph("crash10", description="ten nodes: tools, effects, routers, an agent")
    graph.add(
        ToolNode("add1", "arith", {"plus": 1}, {"value": "n"}, "n"),
        eff("eff1"),
        RouterNode("route1", {"even": "double", "odd": "triple"}, "double", func=route(
            lambda n: "even" if n % 2 == 0 else "odd")),
        ToolNode("double", "arith", {"factor": 2}, {"value": "n"}, "n"),
        ToolNode("triple", "arith", {"factor": 3}, {"value": "n"}, "n"),
        eff("eff2"),
        AgentNode("ask", agent="adder", prompt="add five to {n}", output_key="answer"),
        eff("eff3"),
        RouterNode("route2", {"big": "eff4"}, END, func=route(lambda n: "big" if n > 40 else "small")),
        eff("eff4"),
    )
    graph.chain("add1", "eff1", "route1").chain("double", "eff2").chain("triple", "eff2")
    return graph.chain("eff2", "ask", "eff3", "route2").entry("add1"), tools


def open_system(home: Path, db: Path, effects: Path, pause: Pause) -> System:
    """A started System on `db` with the crash graph registered and the journal reporting to `pause`."""
    rules = home / "rules.json"
    rules.parent.mkdir(parents=True, exist_ok=True)
    rules.write_text(json.dumps(RULES))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    config = Config.from_env(env, dotenv=None, home=str(home), db_path=str(db), provider="scripted",
                             scripted_rules=str(rules), agent_pool_size=1, graph_node_pool=2)
    graph, tools = crash_graph(pause, effects)
    system = System(config, agents=[AgentSpec.from_config(config, name="adder", tools=("plus5",), pool_size=1)])
    for tool in tools:
        system.tools.register(tool)
    system.start()
    system.register_workflow("crash10", graph)
    journal = system.journal
    assert journal is not None
    record = journal.record

    def record_then_pause(effect: Any) -> None:
        record(effect)
        pause.effect()

    journal.record = record_then_pause  # type: ignore[method-assign]
    return system


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--effects", required=True)
    parser.add_argument("--resume")
    parser.add_argument("--start")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pause", default="")
    args = parser.parse_args()
    at, _, phase = args.pause.partition(":")
    pause = Pause()
    system = open_system(Path(args.home), Path(args.db), Path(args.effects), pause)
    try:
        if args.resume:
            result = system.graph_resume(args.resume, timeout=60)
            print("RESUMED " + json.dumps(result.to_dict()), flush=True)
        if args.start:
            pause.at, pause.phase = (int(at), phase or "node") if at else (None, "node")
            pause.count = 0
            result = system.graph_run("crash10", args.start, run_id=args.start, state={"n": args.seed}, timeout=60)
            print("DONE " + json.dumps(result.to_dict()), flush=True)
    finally:
        system.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
