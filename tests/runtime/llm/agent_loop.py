"""One full agent loop through `System` against the wire server: a tool call, then a final answer."""

from __future__ import annotations

from typing import Any

from agentstage.runtime.wire import RunResult
from agentstage.runtime import Config, System
from agentstage.runtime.llm.types import Provider
from agentstage.runtime.tools.registry import Tool, ToolRegistry

ADD = Tool("add", "Add two numbers.", {"type": "object", "properties": {"a": {"type": "number"},
                                                                        "b": {"type": "number"}},
                                       "required": ["a", "b"], "additionalProperties": False},
           lambda a, b: {"sum": a + b})


def run_loop(config: Config, provider: Provider, prompt: str = "add 2 and 3") -> tuple[RunResult, list[dict[str, Any]]]:
    """Run `prompt` on a System whose default agent uses `provider` and the `add` tool."""
    with System(config.replace(tools="add", max_iterations=3), tools=ToolRegistry([ADD]),
                providers={"default": provider}) as system:
        result = system.run(prompt, timeout=60)
        return result, system.events(result.run_id)
