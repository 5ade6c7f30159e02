"""Type hints as JSON schemas, and JSON arguments back as the annotated types."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Optional, TypedDict

import pytest

from agentstage.runtime.tools.hints import converter_for, json_default, schema_for


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(TypedDict, total=False):
    x: int
    label: str


@pytest.mark.parametrize(("hint", "schema"), [
    (str, {"type": "string"}),
    (int, {"type": "integer"}),
    (float, {"type": "number"}),
    (bool, {"type": "boolean"}),
    (Any, {}),
    (list[str], {"type": "array", "items": {"type": "string"}}),
    (Sequence[int], {"type": "array", "items": {"type": "integer"}}),
    (set[str], {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
    (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
    (tuple[int, str], {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
                       "minItems": 2, "maxItems": 2}),
    (dict[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
    (dict, {"type": "object"}),
    (Optional[int], {"type": ["integer", "null"]}),
    (int | str, {"type": ["integer", "string"]}),
    (list[int] | None, {"anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}]}),
    (Literal["fast", "slow"], {"type": "string", "enum": ["fast", "slow"]}),
    (Literal[1, "a"], {"enum": [1, "a"]}),
    (Color, {"type": "string", "enum": ["red", "blue"]}),
    (Annotated[int, "how many"], {"type": "integer", "description": "how many"}),
])
def test_schema_for_each_kind_of_hint(hint: Any, schema: dict[str, Any]) -> None:
    assert schema_for(hint) == schema


def test_typed_dict_is_an_object_with_its_keys() -> None:
    assert schema_for(Point) == {"type": "object", "properties": {"x": {"type": "integer"}, "label": {"type": "string"}},
                                 "required": [], "additionalProperties": False}


def test_a_type_json_cannot_carry_is_refused() -> None:
    with pytest.raises(TypeError, match="no JSON schema for"):
        schema_for(bytes)


def test_converters_give_enums_tuples_and_sets() -> None:
    assert converter_for(Color)("red") is Color.RED
    assert converter_for(Optional[Color])(None) is None
    assert converter_for(tuple[int, ...])([1, 2]) == (1, 2)
    assert converter_for(set[Color])(["red"]) == {Color.RED}
    assert converter_for(list[Color])(["blue"]) == [Color.BLUE]
    assert converter_for(list[int]) is None and converter_for(str) is None


def test_defaults_that_json_can_carry() -> None:
    assert json_default(Color.RED) == "red"
    assert json_default(3) == 3 and json_default(None) is None and json_default(()) == []
    assert json_default(object()) is dataclasses.MISSING
