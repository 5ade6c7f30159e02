"""Tools the model can call: name, JSON-schema parameters, a function, and whether it has effects."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from agentstage.runtime.errors import NotFound, ToolArgumentsError, ToolError
from agentstage.runtime.llm.types import ToolSpec
from agentstage.runtime.tools.schema_fast import checker
from agentstage.runtime.tools.selection import build_selection

__all__ = ["RUN_ARG", "SESSION_ARG", "Tool", "ToolRegistry", "trusted_schemas"]

SESSION_ARG = "_session_id"
"""Argument the runtime (never the model) sets on calls of session-scoped tools."""
RUN_ARG = "_run_id"
"""Argument the runtime (never the model) sets on calls of tools that need the calling run's id."""

_SCHEMAS_CHECKED = ContextVar("agentstage_tool_schemas_checked", default=False)


@contextmanager
def trusted_schemas() -> Iterator[None]:
    """Tools built inside skip the meta-schema check at construction: their schemas are the runtime's own.

    PERF: checking a schema against JSON Schema 2020-12 costs milliseconds per tool, a quarter of a
    second for the built-in set, paid by every `agentstage run`; the suite checks those schemas instead
    (tests/runtime/tools/test_builtin.py). Tools built anywhere else are still checked when built.
    """
    token = _SCHEMAS_CHECKED.set(True)
    try:
        yield
    finally:
        _SCHEMAS_CHECKED.reset(token)


@dataclass(frozen=True)
class Tool:
    """A callable tool; `func(**arguments)` returns a JSON-able result or raises.

    `side_effects=True` tools are journalled under an idempotency key so a retried run
    does not repeat a completed call. `needs_session=True` tools receive `session_id=` from
    the run (see `SessionBinding`), `needs_run=True` tools receive the calling run's `run_id=` (agents
    calling agents). `available=False` marks a tool whose service is missing here.
    `inline=True` marks a pure, bounded, CPU-only tool (no I/O, no effects) that the agent calls on
    its own thread instead of handing it to a tool thread; it has no timeout, so it must not block.
    A schema that is not valid JSON Schema raises jsonschema.SchemaError here; the validator of the
    arguments is built on the first call.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    func: Callable[..., Any]
    side_effects: bool = False
    needs_session: bool = False
    needs_run: bool = False
    available: bool = True
    inline: bool = False
    _validator: Any = field(default=None, init=False, repr=False, compare=False)
    _check: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.inline and self.side_effects:
            raise ValueError(f"tool {self.name!r}: a tool with side effects cannot run inline")
        if not _SCHEMAS_CHECKED.get():
            import jsonschema

            jsonschema.Draft202012Validator.check_schema(self.parameters)

    @property
    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)

    def validate(self, arguments: Any) -> dict[str, Any]:
        """Return the arguments if they match the schema; raise ToolArgumentsError listing every problem."""
        if not isinstance(arguments, dict):
            raise ToolArgumentsError(self.name, ["arguments must be a JSON object"])
        check = self._check
        if check is None:
            check = checker(self.parameters)
            object.__setattr__(self, "_check", check)
        if check(arguments):
            return arguments
        validator = self._validator
        if validator is None:
            import jsonschema

            validator = jsonschema.Draft202012Validator(self.parameters)
            object.__setattr__(self, "_validator", validator)
        errors = sorted(validator.iter_errors(arguments), key=lambda e: list(e.path))
        if errors:
            raise ToolArgumentsError(
                self.name, [f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors]
            )
        return arguments

    def __call__(self, arguments: dict[str, Any]) -> Any:
        session = run = None
        if isinstance(arguments, dict) and (SESSION_ARG in arguments or RUN_ARG in arguments):
            session, run = arguments.get(SESSION_ARG), arguments.get(RUN_ARG)
            arguments = {k: v for k, v in arguments.items() if k not in (SESSION_ARG, RUN_ARG)}
        bound: dict[str, Any] = {}
        if self.needs_session:
            if not isinstance(session, str) or not session:
                raise ToolError(self.name, f"{self.name} keeps its state per session and was called outside a run")
            bound["session_id"] = session
        if self.needs_run:
            if not isinstance(run, str) or not run:
                raise ToolError(self.name, f"{self.name} needs the calling run and was called outside a run")
            bound["run_id"] = run
        return self.func(**bound, **self.validate(arguments))

    def catalog_entry(self) -> dict[str, Any]:
        """Name, description, schema and availability, as listed by the API and the CLI."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters,
                "side_effects": self.side_effects, "available": self.available}


class ToolRegistry:
    """A thread-safe set of tools by name; `select` builds the view an agent uses."""

    def __init__(self, tools: Iterable[Tool] = (), bundles: Mapping[str, Sequence[str]] | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        self._lock = threading.Lock()
        self.bundles: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in (bundles or {}).items()}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool | Callable[..., Any]) -> Tool:
        """Add or replace a tool; a plain function becomes one as with `@tool`. Returns the Tool."""
        if not isinstance(tool, Tool):
            # NOTE: `function` builds Tools, so it imports this module; importing it here avoids the cycle.
            from agentstage.runtime.tools.function import tool as make_tool

            tool = make_tool(tool)
        with self._lock:
            self._tools[tool.name] = tool
        return tool

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

    def expand(self, selection: str | Iterable[str]) -> list[str]:
        """Tool names of a selection in the grammar of `build_selection` (`@bundle`, `*`, names)."""
        return build_selection(selection, list(self._tools), self.bundles)

    def select(self, selection: str | Iterable[str]) -> ToolRegistry:
        """A registry holding only the selected tools (order kept, duplicates dropped).

        Raises NotFound("tool" | "bundle", name) for an unknown entry.
        """
        return ToolRegistry((self.get(name) for name in self.expand(selection)), self.bundles)
