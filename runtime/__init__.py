"""agentstage runtime: configuration, the embedding API (System), state, providers and tools."""

from loguru import logger

from agentstage.runtime.agents import AgentSpec
from agentstage.runtime.config import Config
from agentstage.runtime.middleware import Middleware, RunContext, ToolOutcome
from agentstage.runtime.retry import RetryPolicy

logger.disable("agentstage.runtime")


def __getattr__(name: str) -> object:
    # NOTE: System wires actors, and actors import runtime building blocks; importing it lazily
    # lets `agentstage.actors` be imported first without a cycle.
    if name in ("RunHandle", "System"):
        from agentstage.runtime import system

        return getattr(system, name)
    if name == "tool":
        from agentstage.runtime.tools.function import tool

        return tool
    raise AttributeError(f"module 'agentstage.runtime' has no attribute {name!r}")

__all__ = [
    "AgentSpec",
    "Config",
    "Middleware",
    "RetryPolicy",
    "RunContext",
    "RunHandle",
    "System",
    "ToolOutcome",
    "tool",
]
