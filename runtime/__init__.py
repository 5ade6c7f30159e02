"""agentstage runtime: configuration, the embedding API (System), state, providers and tools."""

from agentstage.runtime.lazy import lazy_exports as _lazy_exports

# NOTE: each name's module is imported when it is first read: the CLI's --help needs none of them, and
# System wires actors, which import runtime building blocks, so `agentstage.actors` can be imported first.
__getattr__ = _lazy_exports(__name__, {
    "AgentSpec": "agentstage.runtime.agents",
    "Config": "agentstage.runtime.config",
    "Middleware": "agentstage.runtime.middleware",
    "RetryPolicy": "agentstage.runtime.retry",
    "RunContext": "agentstage.runtime.middleware",
    "RunHandle": "agentstage.runtime.system",
    "System": "agentstage.runtime.system",
    "ToolOutcome": "agentstage.runtime.middleware",
    "tool": "agentstage.runtime.tools.function",
})

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
