"""known_valid never says yes where jsonschema says no, and says yes for the plain valid calls tools get."""

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentstage.runtime.tools.builtin import builtin_registry
from agentstage.runtime.tools.schema_fast import known_valid

SCHEMAS = [
    {},
    True,
    {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 5}}, "required": ["n"],
     "additionalProperties": False},
    {"type": "object", "properties": {"x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}}},
    {"type": ["string", "null"], "minLength": 2, "maxLength": 3},
    {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "minItems": 1, "maxItems": 2},
    {"type": "object", "additionalProperties": {"type": "boolean"}},
    {"type": "object", "properties": {"k": {"const": 1}, "e": {"enum": [1, "1", None, True]}}},
    {"type": "object", "properties": {"p": {"type": "string", "pattern": "^a"}, "f": {"format": "email"}}},
    {"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}},
    {"type": "object", "properties": {"never": False, "any": True}},
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | st.floats(-3, 3, allow_nan=False) | st.sampled_from(
        [1.0, 0.5, "", "a", "ab", "abc", "abcd", "b", "1", "x"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["n", "x", "k", "e", "p", "f", "a", "never", "any", "expression", "text", "operation", "z"]),
        children, max_size=4),
    max_leaves=8,
)


def agrees(schema, value) -> None:
    if known_valid(schema, value):
        assert jsonschema.Draft202012Validator(schema).is_valid(value), (schema, value)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(SCHEMAS), json_values)
def test_a_yes_is_always_a_yes_of_jsonschema(schema, value) -> None:
    agrees(schema, value)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([tool.parameters for tool in builtin_registry()]), json_values)
def test_builtin_tool_schemas_agree_with_jsonschema(schema, value) -> None:
    agrees(schema, value)


@pytest.mark.parametrize(("schema", "value"), [
    ({"type": "integer"}, True), ({"type": "number"}, False), ({"enum": [1]}, True), ({"const": 1}, 1.0),
    ({"type": "string", "pattern": "^a"}, "abc"), ({"type": "object", "properties": {"a": False}}, {"a": 1}),
    ({"type": "object", "required": ["a"]}, {}), ({"type": "object", "additionalProperties": False}, {"a": 1}),
])
def test_bools_as_numbers_unknown_keywords_and_failures_go_to_jsonschema(schema, value) -> None:
    assert not known_valid(schema, value)


def test_plain_valid_tool_calls_are_known_valid_without_jsonschema() -> None:
    registry = builtin_registry()
    assert known_valid(registry.get("calculator").parameters, {"expression": "6 * 7"})
    assert known_valid(registry.get("text_stats").parameters, {"text": "one two"})
    assert known_valid({"type": "integer"}, 2.0) and known_valid({"type": "number", "minimum": 0}, 0)
