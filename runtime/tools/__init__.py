"""Tools: the registry agents select from, and the built-in offline tools."""

from agentstage.runtime.tools.builtin import builtin_tools
from agentstage.runtime.tools.registry import Tool, ToolRegistry

__all__ = ["Tool", "ToolRegistry", "builtin_tools"]
