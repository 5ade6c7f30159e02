"""Tools the model can call: name, JSON-schema parameters, a function, and whether it has effects."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from agentstage.runtime.errors import NotFound, ToolArgumentsError
from agentstage.runtime.llm.types import ToolSpec

__all__ = ["Tool", "ToolRegistry"]


@dataclass(frozen=True)
class Tool:
    """A callable tool; `func(**arguments)` returns a JSON-able result or raises.

    `side_effects=True` tools are journalled under an idempotency key so a retried run
    does not repeat a completed call.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    func: Callable[..., Any]
    side_effects: bool = False
    _validator: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        jsonschema.Draft202012Validator.check_schema(self.parameters)
        object.__setattr__(self, "_validator", jsonschema.Draft202012Validator(self.parameters))

    @property
    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)

    def validate(self, arguments: Any) -> dict[str, Any]:
        """Return the arguments if they match the schema; raise ToolArgumentsError listing every problem."""
        if not isinstance(arguments, dict):
            raise ToolArgumentsError(self.name, ["arguments must be a JSON object"])
        errors = sorted(self._validator.iter_errors(arguments), key=lambda e: list(e.path))
        if errors:
            raise ToolArgumentsError(
                self.name, [f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors]
            )
        return arguments

    def __call__(self, arguments: dict[str, Any]) -> Any:
        return self.func(**self.validate(arguments))


class ToolRegistry:
    """A thread-safe set of tools by name; `select` builds the view an agent uses."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self._lock = threading.Lock()
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        with self._lock:
            self._tools[tool.name] = tool

    def unregister(self, name: str) -> None:
        with self._lock:
            self._tools.pop(name, None)

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise NotFound("tool", name) from None

    def names(self) -> list[str]:
        return sorted(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self):
        return iter(list(self._tools.values()))

    def select(self, names: Iterable[str]) -> ToolRegistry:
        """A registry holding only `names` (order kept, duplicates dropped); NotFound for an unknown name."""
        chosen: dict[str, Tool] = {}
        for name in names:
            if name == "*":
                chosen.update({t.name: t for t in self})
            elif name not in chosen:
                chosen[name] = self.get(name)
        return ToolRegistry(chosen.values())
