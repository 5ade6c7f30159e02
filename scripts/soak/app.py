"""The soak's worker setup (`worker-start --app app:setup`, run from this folder).

Agent `effect` answers "effect KEY MS" by napping MS milliseconds, then calling the side-effecting
tool `effect`, which POSTs KEY to the counting server at $SOAK_EFFECT_URL (on loopback). The soak
counts each key's calls there: a key called twice is a repeated side effect.
"""

from __future__ import annotations

import os
import time

import httpx

from agentstage.runtime.agents import AgentSpec
from agentstage.runtime.distributed.node import WorkerSetup
from agentstage.runtime.llm.scripted import Rule, ScriptedProvider
from agentstage.runtime.retry import RetryPolicy
from agentstage.runtime.tools.builtin import builtin_tools
from agentstage.runtime.tools.registry import Tool, ToolRegistry

RULES = [Rule("effect", r"effect (\w+) (\d+)", tool="effect", arguments={"key": "{1}", "ms": "{2}"})]


def effect(key: str, ms: str = "0") -> dict:
    """Nap, then perform the side effect once: one POST to the counting server."""
    time.sleep(int(ms) / 1000)
    answer = httpx.post(f"{os.environ['SOAK_EFFECT_URL']}/{key}", timeout=10)
    return {"key": key, "status": answer.status_code}


def setup() -> WorkerSetup:
    schema = {"type": "object", "required": ["key"],
              "properties": {"key": {"type": "string"}, "ms": {"type": "string", "pattern": "^[0-9]+$"}}}
    tools = ToolRegistry([*builtin_tools(), Tool("effect", "perform a counted side effect", schema, effect,
                                                   side_effects=True)])
    return WorkerSetup(agents=[AgentSpec("effect", tools=("effect",), retry=RetryPolicy(1, 0.01, 2.0, 0.01, 0.0))],
                       tools=tools, providers={"effect": ScriptedProvider(RULES)})
