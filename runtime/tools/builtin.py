"""The built-in tools: calculator, current_time, json_query, text_stats here, the rest from one
module per domain; `builtin_registry` assembles them with the bundles."""

from __future__ import annotations

import ast
import math
import operator
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools.bundles import bundle_map
from agentstage.runtime.tools.code import code_tools
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.docs import docs_tools
from agentstage.runtime.tools.documents import search_documents_tool
from agentstage.runtime.tools.encoding import encoding_tools, json_query
from agentstage.runtime.tools.files import file_tools
from agentstage.runtime.tools.host import host_tools
from agentstage.runtime.tools.limits import bounded
from agentstage.runtime.tools.network import network_tools
from agentstage.runtime.tools.redaction import redaction_tools
from agentstage.runtime.tools.registry import Tool, ToolRegistry, trusted_schemas
from agentstage.runtime.tools.services import service_tools
from agentstage.runtime.tools.session import session_tools
from agentstage.runtime.tools.text import text_tools

__all__ = ["builtin_registry", "builtin_tools", "calculate", "current_time", "json_query", "text_stats"]

_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS = {"sqrt": math.sqrt, "abs": abs, "round": round, "min": min, "max": max, "log": math.log,
              "sin": math.sin, "cos": math.cos, "tan": math.tan, "floor": math.floor, "ceil": math.ceil}
_CONSTANTS = {"pi": math.pi, "e": math.e}
_MAX_EXPRESSION = 500
_MAX_DIGITS = 1000
_MAX_BITS = int(_MAX_DIGITS * math.log2(10))
_MAX_ROUND_DIGITS = 100


def calculate(expression: str) -> dict[str, Any]:
    """Evaluate an arithmetic expression without `eval`: numbers, + - * / // % **, and math functions.

    Every step is sized before it is computed: an integer of more than 1000 digits, a non-finite or
    complex result is a ToolError, so `9**9**9` is refused at once instead of holding the process.
    """
    if len(expression) > _MAX_EXPRESSION:
        raise ToolError("calculator", f"expression longer than {_MAX_EXPRESSION} characters")
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
        value = _evaluate(tree.body)
    except ToolError:
        raise
    except (SyntaxError, RecursionError, MemoryError):
        raise ToolError("calculator", f"not an arithmetic expression: {expression!r}") from None
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise ToolError("calculator", f"cannot evaluate {expression!r}: {exc}") from None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    return {"expression": expression, "result": value}


def _evaluate(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return _sized(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        _check_growth(node.op, left, right)
        return _sized(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS and not node.keywords:
        args = [_evaluate(a) for a in node.args]
        if node.func.id == "round" and len(args) > 1 and isinstance(args[1], int) and abs(args[1]) > _MAX_ROUND_DIGITS:
            raise ToolError("calculator", f"round() to more than {_MAX_ROUND_DIGITS} digits is refused")
        return _sized(_FUNCTIONS[node.func.id](*args))
    raise ToolError("calculator", f"unsupported element in expression: {ast.dump(node)[:60]}")


def _check_growth(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse an integer power or product whose result would pass the size bound, before computing it."""
    if not (isinstance(left, int) and isinstance(right, int)):
        return
    if isinstance(op, ast.Pow) and right > 0 and abs(left) > 1:
        bits = right * math.log2(abs(left))
    elif isinstance(op, ast.Mult) and left and right:
        bits = abs(left).bit_length() + abs(right).bit_length() - 1
    else:
        return
    if bits > _MAX_BITS:
        raise ToolError("calculator", f"result too large (more than about {_MAX_DIGITS} digits)")


def _sized(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ToolError("calculator", "result is not a real number")
    if isinstance(value, int) and value.bit_length() > _MAX_BITS:
        raise ToolError("calculator", f"result too large (more than about {_MAX_DIGITS} digits)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError("calculator", "result is not a finite number")
    return value


def current_time(timezone: str = "UTC") -> dict[str, str]:
    """The current time in an IANA time zone."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolError("current_time", f"unknown time zone {timezone!r}") from None
    now = datetime.now(UTC).astimezone(zone)
    return {"timezone": timezone, "iso": now.isoformat(timespec="seconds"), "weekday": now.strftime("%A")}


def text_stats(text: str) -> dict[str, Any]:
    """Counts of characters, words, lines and sentences, and the most common words."""
    bounded("text_stats", "text", text)
    words = re.findall(r"[\w']+", text.lower())
    counts: dict[str, int] = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return {
        "characters": len(text),
        "words": len(words),
        "lines": text.count("\n") + 1 if text else 0,
        "sentences": len([s for s in re.split(r"[.!?]+", text) if s.strip()]),
        "top_words": [{"word": w, "count": c} for w, c in top],
    }


def _basic_tools() -> list[Tool]:
    return [
        Tool("calculator", "Evaluate an arithmetic expression such as '(2+3)*4' or 'sqrt(16)'.",
             {"type": "object", "properties": {"expression": {"type": "string", "minLength": 1}},
              "required": ["expression"], "additionalProperties": False}, calculate, inline=True),
        Tool("current_time", "The current date and time in an IANA time zone (default UTC).",
             {"type": "object", "properties": {"timezone": {"type": "string"}}, "additionalProperties": False},
             current_time),
        Tool("json_query", "Select a value from a JSON document by a dotted path; optionally pick keys.",
             {"type": "object", "properties": {"document": {}, "path": {"type": "string"},
                                               "pick": {"type": "array", "items": {"type": "string"}}},
              "required": ["document"], "additionalProperties": False}, json_query, inline=True),
        Tool("text_stats", "Count characters, words, lines and sentences of a text; list its top words.",
             {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"],
              "additionalProperties": False}, text_stats, inline=True),
    ]


def builtin_tools(context: ToolContext | None = None) -> list[Tool]:
    """Fresh instances of every built-in tool, bound to `context` (default limits when None)."""
    context = context if context is not None else ToolContext()
    with trusted_schemas():
        return [*_basic_tools(), *encoding_tools(), *text_tools(), *redaction_tools(), *docs_tools(context),
                *code_tools(context), *network_tools(context), *file_tools(context), *host_tools(context),
                *session_tools(context), *service_tools(), search_documents_tool(context.documents)]


def builtin_registry(context: ToolContext | None = None) -> ToolRegistry:
    """A registry of every built-in tool, with the standard bundles (`@default`, `@security`, ..., `@all`)."""
    tools = builtin_tools(context)
    return ToolRegistry(tools, bundle_map(t.name for t in tools))
