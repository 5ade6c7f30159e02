"""`@tool`: Python functions as tools, schema from hints and docstring, run by agents."""

from __future__ import annotations

import asyncio
import enum
import inspect
from typing import Literal

import pytest

from agentstage.runtime import AgentSpec, System
from agentstage.runtime.errors import ToolArgumentsError
from agentstage.runtime.llm.scripted import Rule, ScriptedProvider
from agentstage.runtime.tools import Tool, ToolRegistry, tool


class Unit(enum.Enum):
    WORDS = "words"
    CHARACTERS = "characters"


@tool
def count(text: str, unit: Unit = Unit.WORDS, distinct: bool = False) -> dict:
    """Count the words or characters of a text.

    Spaces count as characters.

    Args:
        text: the text to count.
        unit: what to count.
        distinct: count each distinct item
            once.
    """
    items = text.split() if unit is Unit.WORDS else list(text)
    return {"unit": unit.value, "count": len(set(items)) if distinct else len(items)}


def test_schema_comes_from_hints_and_google_docstring() -> None:
    assert isinstance(count, Tool) and count.name == "count"
    assert count.description == "Count the words or characters of a text.\n\nSpaces count as characters."
    assert count.parameters == {
        "type": "object",
        "properties": {
            "text": {"type": "string", "description": "the text to count."},
            "unit": {"type": "string", "enum": ["words", "characters"], "description": "what to count.",
                     "default": "words"},
            "distinct": {"type": "boolean", "description": "count each distinct item once.", "default": False},
        },
        "required": ["text"],
        "additionalProperties": False,
    }


def test_call_validates_and_converts_arguments() -> None:
    assert count({"text": "a b a", "unit": "words", "distinct": True}) == {"unit": "words", "count": 2}
    assert count({"text": "ab"}) == {"unit": "words", "count": 1}
    with pytest.raises(ToolArgumentsError, match="unit"):
        count({"text": "a", "unit": "lines"})


def test_numpy_docstring_optional_and_literal() -> None:
    def scale(values: list[float], factor: float | None = None, mode: Literal["up", "down"] = "up") -> list[float]:
        """Scale numbers.

        Parameters
        ----------
        values : list of float
            the numbers.
        factor : float, optional
            multiplier (default 2).
        """
        return [v * (factor or 2) for v in values]

    made = tool(name="scale_numbers", side_effects=True)(scale)
    assert made.name == "scale_numbers" and made.side_effects and made.description == "Scale numbers."
    assert tool(inline=True)(scale).inline and not made.inline
    assert made.parameters["properties"] == {
        "values": {"type": "array", "items": {"type": "number"}, "description": "the numbers."},
        "factor": {"type": ["number", "null"], "description": "multiplier (default 2).", "default": None},
        "mode": {"type": "string", "enum": ["up", "down"], "default": "up"},
    }
    assert made({"values": [1, 2]}) == [2, 4]


def test_async_function_stays_a_coroutine_function() -> None:
    @tool
    async def wait(unit: Unit) -> str:
        """Return the unit after a pause."""
        await asyncio.sleep(0)
        return unit.name

    assert inspect.iscoroutinefunction(wait.func)
    assert asyncio.run(wait({"unit": "characters"})) == "CHARACTERS"


def test_session_id_parameter_is_set_by_the_runtime() -> None:
    @tool
    def whoami(session_id: str) -> str:
        """The run's session."""
        return session_id

    assert whoami.needs_session and whoami.parameters["properties"] == {}
    assert whoami({"_session_id": "s1"}) == "s1"


def test_unsupported_hint_and_bad_name_are_refused_at_definition() -> None:
    def raw(data: bytes) -> None:
        """Take bytes."""

    with pytest.raises(TypeError, match="tool raw: parameter 'data'"):
        tool(raw)
    with pytest.raises(ValueError, match="tool name"):
        tool(name="has space")(raw)


def test_hints_naming_an_undefined_type_are_refused_with_the_tool_name() -> None:
    def later(value: Missing) -> None:  # noqa: F821
        """Take a value of a type defined nowhere."""

    with pytest.raises(TypeError, match="tool later: cannot resolve its type hints"):
        tool(later)


def test_registry_registers_a_plain_function() -> None:
    def shout(text: str) -> str:
        """Upper-case a text."""
        return text.upper()

    registry = ToolRegistry()
    made = registry.register(shout)
    assert registry.get("shout") is made and made({"text": "hi"}) == "HI"


def test_agent_calls_sync_and_async_function_tools(config) -> None:
    @tool
    async def reverse(text: str) -> str:
        """Reverse a text."""
        return text[::-1]

    rules = [Rule("count", r"^count (.+)", tool="count", arguments={"text": "{1}"}),
             Rule("reverse", r"^reverse (.+)", tool="reverse", arguments={"text": "{1}"})]
    spec = AgentSpec.from_config(config, name="texts", tools=("count", "reverse"))
    system = System(config, agents=[spec], providers={"texts": ScriptedProvider(rules)})
    system.tools.register(count)
    system.tools.register(reverse)
    with system:
        counted = system.run("count one two three", agent="texts")
        reversed_ = system.run("reverse abc", agent="texts")
    assert counted.status == "completed" and "3" in counted.output
    assert reversed_.status == "completed" and "cba" in reversed_.output
