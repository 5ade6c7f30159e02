"""A worker setup for tests (`worker-start --app tests.runtime.distributed.worker_app:setup`).

Agents: `slow` naps step after step (to cancel at a step boundary), `napper` naps once (a long
step without side effects, to kill a worker mid-task),
`tally` records a side effect per key in $TALLY_FILE after a nap (to prove effects are not
repeated), `flaky` always fails with a transient provider error (retries -> DLQ). Workflow
`relay` is three tally steps (a graph to kill mid-run); `delegate` is one agent node whose child
run naps (a child run to retry). `boss` delegates to `tally` (`ask tally KEY`: a tally after a 1.5 s
nap), to kill a worker while the child run is inside its side effect.
"""

from __future__ import annotations

import os
import time

from agentstage.runtime.agents import AgentSpec
from agentstage.runtime.distributed.node import WorkerSetup
from agentstage.runtime.errors import TransientError
from agentstage.runtime.graph.builder import Graph
from agentstage.runtime.graph.nodes import AgentNode, ToolNode
from agentstage.runtime.llm.scripted import Rule, ScriptedProvider
from agentstage.runtime.llm.types import LLMRequest, LLMResponse, Provider
from agentstage.runtime.retry import RetryPolicy
from agentstage.runtime.tools.builtin import builtin_tools
from agentstage.runtime.tools.registry import Tool, ToolRegistry
from agentstage.runtime.workflow import default_registry


def nap(ms: int) -> dict:
    time.sleep(ms / 1000)
    return {"slept_ms": ms}


def tally(key: str, ms: int = 0) -> dict:
    time.sleep(ms / 1000)
    with open(os.environ.get("TALLY_FILE", os.devnull), "a") as out:
        out.write(key + "\n")
    return {"tallied": key}


class FlakyProvider(Provider):
    """Fails every call with a retryable error."""

    name = "flaky"

    def generate(self, request: LLMRequest) -> LLMResponse:
        raise TransientError("flaky", "upstream unavailable (test)")


_INT = {"type": "integer", "minimum": 0}
RULES = [
    Rule("nap", r"nap (\d+)", tool="nap", arguments={"ms": "{1}"}),
    Rule("naps", r"naps (\d+)", tool="nap", arguments={"ms": "{1}"}),
    Rule("tally", r"tally (\w+) (\d+)", tool="tally", arguments={"key": "{1}", "ms": "{2}"}),
]
BOSS_RULES = [Rule("ask", r"ask tally (\w+)", tool="ask_tally", arguments={"task": "tally {1} 1500"})]


class _IntArgs(ScriptedProvider):
    """The scripted provider, with numeric arguments passed as integers."""

    def generate(self, request: LLMRequest) -> LLMResponse:
        response = super().generate(request)
        calls = tuple(type(c)(c.id, c.name, {k: int(v) if k == "ms" else v for k, v in c.arguments.items()})
                      for c in response.tool_calls)
        return LLMResponse(content=response.content, tool_calls=calls, usage=response.usage, model=response.model,
                           finish_reason=response.finish_reason, metadata=response.metadata)


class _Looping(_IntArgs):
    """Calls `nap` again after every tool result: a run of many steps (for cancellation)."""

    def generate(self, request: LLMRequest) -> LLMResponse:
        last = request.messages[-1]
        if last.role == "tool":
            first_user = next(m for m in request.messages if m.role == "user")
            return super().generate(LLMRequest((first_user,), request.tools, request.system, request.model))
        return super().generate(request)


def relay() -> Graph:
    """Three side-effecting tool steps, each tallying its own key after a nap."""
    graph = Graph("relay", description="three tally steps")
    graph.add(*(ToolNode(key, "tally", args={"key": key, "ms": 1000}, output_key=key) for key in ("a", "b", "c")))
    return graph.chain("a", "b", "c").entry("a")


def delegate() -> Graph:
    """One agent node: the `napper` agent naps for as many ms as the input says."""
    graph = Graph("delegate", description="an agent node that naps")
    graph.add(AgentNode("nap", "napper", "nap {input}"))
    return graph.entry("nap")


def setup() -> WorkerSetup:
    tools = ToolRegistry([
        *builtin_tools(),
        Tool("nap", "sleep for ms milliseconds", {"type": "object", "properties": {"ms": _INT}, "required": ["ms"]},
             nap),
        Tool("tally", "record a side effect", {"type": "object", "properties": {"key": {"type": "string"}, "ms": _INT},
                                               "required": ["key"]}, tally, side_effects=True),
    ])
    once = RetryPolicy(1, 0.01, 2.0, 0.01, 0.0)
    workflows = default_registry()
    workflows.register("relay", relay)
    workflows.register("delegate", delegate)
    return WorkerSetup(
        agents=[AgentSpec("slow", tools=("nap",), max_iterations=50, retry=once),
                AgentSpec("napper", tools=("nap",), retry=once),
                AgentSpec("tally", tools=("tally",), retry=once),
                AgentSpec("boss", tools=(), delegates=("tally",), retry=once),
                AgentSpec("flaky", retry=once)],
        tools=tools,
        providers={"slow": _Looping(RULES), "napper": _IntArgs(RULES), "tally": _IntArgs(RULES),
                   "boss": ScriptedProvider(BOSS_RULES), "flaky": FlakyProvider()},
        workflows=workflows,
    )
