"""Small builders shared by the built-in tool modules: schemas and operation-dispatching tools."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools.registry import Tool

__all__ = ["obj", "op_tool", "require", "unavailable_tool"]

Handler = Callable[[dict[str, Any]], Any]


def obj(properties: Mapping[str, Any], required: tuple[str, ...] = (), extra: bool = False) -> dict[str, Any]:
    """A JSON-schema object with these properties; extra keys refused unless `extra`."""
    return {"type": "object", "properties": dict(properties), "required": list(required),
            "additionalProperties": extra}


def require(tool: str, arguments: Mapping[str, Any], *names: str) -> list[Any]:
    """The named arguments, or a ToolError naming the first one missing (per-operation requirements)."""
    missing = [n for n in names if arguments.get(n) in (None, "")]
    if missing:
        raise ToolError(tool, f"{tool}: argument {missing[0]!r} is required for this operation")
    return [arguments[n] for n in names]


def op_tool(
    name: str,
    description: str,
    operations: Mapping[str, Handler],
    properties: Mapping[str, Any],
    required: tuple[str, ...] = (),
    *,
    side_effects: bool = False,
    needs_session: bool = False,
) -> Tool:
    """A tool whose `operation` argument picks one handler; handlers get the other arguments as a dict."""

    def dispatch(operation: str, **arguments: Any) -> Any:
        return operations[operation](arguments)

    schema = obj({"operation": {"type": "string", "enum": list(operations)}, **properties}, ("operation", *required))
    return Tool(name, description, schema, dispatch, side_effects=side_effects, needs_session=needs_session)


def unavailable_tool(name: str, description: str, schema: dict[str, Any], reason: str) -> Tool:
    """A tool registered with its schema that fails with `reason` because its service is missing here."""

    def refuse(**_: Any) -> Any:
        raise ToolError(name, f"{name} is not available on this host: {reason}")

    return Tool(name, description, schema, refuse, available=False)
