"""Tools: the registry agents select from, the built-in offline tools, and `@tool` for your own."""

from agentstage.runtime.tools.builtin import builtin_tools
from agentstage.runtime.tools.function import tool
from agentstage.runtime.tools.registry import Tool, ToolRegistry

__all__ = ["Tool", "ToolRegistry", "builtin_tools", "tool"]
