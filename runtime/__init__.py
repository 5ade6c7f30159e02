"""agentstage runtime: configuration, the embedding API (System), state, providers and tools."""

from loguru import logger

from agentstage.runtime.agents import AgentSpec
from agentstage.runtime.config import Config
from agentstage.runtime.middleware import Middleware, RunContext, ToolOutcome
from agentstage.runtime.retry import RetryPolicy
from agentstage.runtime.system import RunHandle, System

logger.disable("agentstage.runtime")

__all__ = [
    "AgentSpec",
    "Config",
    "Middleware",
    "RetryPolicy",
    "RunContext",
    "RunHandle",
    "System",
    "ToolOutcome",
]
