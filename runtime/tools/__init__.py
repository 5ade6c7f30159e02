"""Tools: the registry agents select from, the built-in offline tools, and `@tool` for your own."""

from agentstage.runtime.lazy import lazy_exports as _lazy_exports

__getattr__ = _lazy_exports(__name__, {
    "builtin_tools": "agentstage.runtime.tools.builtin",
    "tool": "agentstage.runtime.tools.function",
    "Tool": "agentstage.runtime.tools.registry",
    "ToolRegistry": "agentstage.runtime.tools.registry",
})

__all__ = ["Tool", "ToolRegistry", "builtin_tools", "tool"]
