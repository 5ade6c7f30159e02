"""`@tool`: a Python function (sync or async) as a Tool, its schema built from type hints and docstring."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import typing
from collections.abc import Callable
from typing import Any, overload

import docstring_parser

from agentstage.runtime.tools.hints import converter_for, json_default, schema_for
from agentstage.runtime.tools.registry import Tool

__all__ = ["function_schema", "tool"]

SESSION_PARAM = "session_id"
"""A parameter of this name is not offered to the model: the runtime passes the run's session id."""

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@overload
def tool(func: Callable[..., Any], /) -> Tool: ...


@overload
def tool(*, name: str | None = None, description: str | None = None, side_effects: bool = False,
         inline: bool = False) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(func: Callable[..., Any] | None = None, /, *, name: str | None = None, description: str | None = None,
         side_effects: bool = False, inline: bool = False) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make `func` a Tool: `@tool` or `@tool(name=..., description=..., side_effects=True, inline=True)`.

    The name is the function's, the description its docstring without the parameter section,
    and each parameter's schema comes from its type hint (a default makes it optional) with the
    docstring's text for it (Google, NumPy, reST or Epydoc style). An `async def` runs on the I/O loop.
    A `session_id` parameter receives the run's session; `inline=True` (a pure, quick, CPU-only
    function) runs on the agent's thread. Raises TypeError for a hint JSON cannot carry.
    """

    def build(f: Callable[..., Any]) -> Tool:
        tool_name = name or f.__name__
        if not _NAME.match(tool_name):
            raise ValueError(f"tool name {tool_name!r} must be 1-64 letters, digits, '_' or '-'")
        summary, parameters = function_schema(f)
        needs_session = SESSION_PARAM in inspect.signature(f).parameters
        return Tool(tool_name, description if description is not None else summary, parameters,
                    _with_conversions(f), side_effects=side_effects, needs_session=needs_session, inline=inline)

    return build if func is None else build(func)


def function_schema(func: Callable[..., Any]) -> tuple[str, dict[str, Any]]:
    """(description, JSON schema of the arguments) of `func`, read from its docstring and type hints."""
    doc = docstring_parser.parse(inspect.getdoc(func) or "")
    notes = {p.arg_name: " ".join((p.description or "").split()) for p in doc.params}
    hints = _hints(func)
    properties: dict[str, Any] = {}
    required: list[str] = []
    extra = False
    for param in inspect.signature(func).parameters.values():
        if param.kind is param.VAR_POSITIONAL or param.kind is param.POSITIONAL_ONLY:
            raise TypeError(f"tool {func.__name__}: parameter {param.name!r} must be passable by name")
        if param.kind is param.VAR_KEYWORD:
            extra = True
            continue
        if param.name == SESSION_PARAM:
            continue
        try:
            schema = schema_for(hints.get(param.name, Any))
        except TypeError as exc:
            raise TypeError(f"tool {func.__name__}: parameter {param.name!r}: {exc}") from None
        if notes.get(param.name) and "description" not in schema:
            schema["description"] = notes[param.name]
        if param.default is param.empty:
            required.append(param.name)
        elif (default := json_default(param.default)) is not dataclasses.MISSING:
            schema["default"] = default
        properties[param.name] = schema
    description = "\n\n".join(part for part in (doc.short_description, doc.long_description) if part)
    return description, {"type": "object", "properties": properties, "required": required,
                         "additionalProperties": extra}


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    """`func`'s type hints resolved; a TypeError naming the tool when a name in them is not defined where it is."""
    try:
        return typing.get_type_hints(func, include_extras=True)
    except NameError as exc:
        raise TypeError(f"tool {func.__name__}: cannot resolve its type hints ({exc}); "
                        "define the types they name at module level") from None


def _with_conversions(func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` taking JSON arguments: Enum, tuple and set parameters get their annotated type."""
    hints = _hints(func)
    converters = {name: c for name, hint in hints.items() if name != "return" and (c := converter_for(hint))}
    if not converters:
        return func

    def convert(arguments: dict[str, Any]) -> dict[str, Any]:
        return {k: converters[k](v) if k in converters else v for k, v in arguments.items()}

    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def call_async(**arguments: Any) -> Any:
            return await func(**convert(arguments))

        return call_async

    @functools.wraps(func)
    def call(**arguments: Any) -> Any:
        return func(**convert(arguments))

    return call
