"""A quick yes to "do these arguments match this schema?" for the plain schemas tools use.

`Tool.validate` asks `known_valid` first and goes to jsonschema only when the answer is not a sure
yes: arguments that fail, or a schema using a keyword this module does not know (`pattern`,
`format`, `anyOf`, `$ref`, ...). So jsonschema alone decides every failure and its messages, and a
run whose tool calls are valid never imports it (PERF: importing jsonschema and building a
2020-12 validator costs 60-250 ms, more than the rest of an offline `agentstage run`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["known_valid"]

_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "$comment", "deprecated", "readOnly",
                          "writeOnly"})
_SCALARS = (str, int, float, bool, type(None))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# NOTE: as jsonschema's type checker for 2020-12: booleans are not numbers, 1.0 is an integer.
_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _same_scalar(value: Any, options: Any) -> bool:
    """Whether `value` is one of `options` with the same type (no 1 == True, no 1 == 1.0: those go to jsonschema)."""
    return isinstance(value, _SCALARS) and isinstance(options, list) and any(
        type(option) is type(value) and option == value for option in options)


def _check_type(schema: dict[str, Any], value: Any) -> bool:
    names = schema["type"]
    names = [names] if isinstance(names, str) else names
    return isinstance(names, list) and any(name in _TYPES and _TYPES[name](value) for name in names)


def _check_string(schema: dict[str, Any], value: Any) -> bool:
    if not isinstance(value, str):
        return True
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    return len(value) >= low and (high is None or len(value) <= high)


def _check_number(schema: dict[str, Any], value: Any) -> bool:
    if not _is_number(value):
        return True
    for key, ok in (("minimum", lambda b: value >= b), ("maximum", lambda b: value <= b),
                    ("exclusiveMinimum", lambda b: value > b), ("exclusiveMaximum", lambda b: value < b)):
        bound = schema.get(key)
        if bound is not None and not (_is_number(bound) and ok(bound)):
            return False
    return True


def _check_array(schema: dict[str, Any], value: Any) -> bool:
    if not isinstance(value, list):
        return True
    low, high = schema.get("minItems", 0), schema.get("maxItems")
    if len(value) < low or (high is not None and len(value) > high):
        return False
    items = schema.get("items", True)
    return all(known_valid(items, item) for item in value)


def _check_object(schema: dict[str, Any], value: Any) -> bool:
    if not isinstance(value, dict):
        return True
    properties = schema.get("properties", {})
    if not isinstance(properties, dict) or not all(key in value for key in schema.get("required", ())):
        return False
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        sub = properties.get(key)
        if sub is None:
            sub = extra
        if not known_valid(sub, item):
            return False
    return True


_KEYWORDS: dict[str, Callable[[dict[str, Any], Any], bool]] = {
    "type": _check_type,
    "enum": lambda schema, value: _same_scalar(value, schema["enum"]),
    "const": lambda schema, value: _same_scalar(value, [schema["const"]]),
    "minLength": _check_string, "maxLength": _check_string,
    "minimum": _check_number, "maximum": _check_number,
    "exclusiveMinimum": _check_number, "exclusiveMaximum": _check_number,
    "items": _check_array, "minItems": _check_array, "maxItems": _check_array,
    "properties": _check_object, "required": _check_object, "additionalProperties": _check_object,
}


def known_valid(schema: Any, value: Any) -> bool:
    """True when `value` surely matches `schema` (already a valid JSON Schema); False means: ask jsonschema."""
    if schema is True:
        return True
    if not isinstance(schema, dict):
        return False
    checks = []
    for key in schema:
        check = _KEYWORDS.get(key)
        if check is None:
            if key in _ANNOTATIONS:
                continue
            return False
        if check not in checks:
            checks.append(check)
    return all(check(schema, value) for check in checks)
