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

__all__ = ["checker", "known_valid"]

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


def _never(value: Any) -> bool:
    return False


def _always(value: Any) -> bool:
    return True


def _same_scalar(options: Any) -> Callable[[Any], bool]:
    """`value` is one of `options` with the same type (no 1 == True, no 1 == 1.0: those go to jsonschema)."""
    if not isinstance(options, list):
        return _never
    return lambda value: isinstance(value, _SCALARS) and any(
        type(option) is type(value) and option == value for option in options)


def _type(names: Any) -> Callable[[Any], bool]:
    names = [names] if isinstance(names, str) else names
    if not isinstance(names, list) or not all(name in _TYPES for name in names):
        return _never
    checks = [_TYPES[name] for name in names]
    return checks[0] if len(checks) == 1 else lambda value: any(check(value) for check in checks)


def _string(schema: dict[str, Any]) -> Callable[[Any], bool]:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    return lambda value: not isinstance(value, str) or (len(value) >= low and (high is None or len(value) <= high))


def _number(schema: dict[str, Any]) -> Callable[[Any], bool]:
    bounds = [(key, schema[key]) for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
              if schema.get(key) is not None]
    if not all(_is_number(bound) for _, bound in bounds):
        return _never
    tests = {"minimum": lambda v, b: v >= b, "maximum": lambda v, b: v <= b,
             "exclusiveMinimum": lambda v, b: v > b, "exclusiveMaximum": lambda v, b: v < b}
    pairs = [(tests[key], bound) for key, bound in bounds]
    return lambda value: not _is_number(value) or all(test(value, bound) for test, bound in pairs)


def _array(schema: dict[str, Any]) -> Callable[[Any], bool]:
    low, high = schema.get("minItems", 0), schema.get("maxItems")
    items = checker(schema.get("items", True))

    def check(value: Any) -> bool:
        if not isinstance(value, list):
            return True
        if len(value) < low or (high is not None and len(value) > high):
            return False
        return all(items(item) for item in value)

    return check


def _object(schema: dict[str, Any]) -> Callable[[Any], bool]:
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        return _never
    required = tuple(schema.get("required", ()))
    known = {key: checker(sub) for key, sub in properties.items()}
    extra = checker(schema.get("additionalProperties", True))

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key in required:
            if key not in value:
                return False
        for key, item in value.items():
            if not known.get(key, extra)(item):
                return False
        return True

    return check


_BUILDERS: dict[str, Callable[[dict[str, Any]], Callable[[Any], bool]]] = {
    "type": lambda schema: _type(schema["type"]),
    "enum": lambda schema: _same_scalar(schema["enum"]),
    "const": lambda schema: _same_scalar([schema["const"]]),
    "minLength": _string, "maxLength": _string,
    "minimum": _number, "maximum": _number, "exclusiveMinimum": _number, "exclusiveMaximum": _number,
    "items": _array, "minItems": _array, "maxItems": _array,
    "properties": _object, "required": _object, "additionalProperties": _object,
}


def checker(schema: Any) -> Callable[[Any], bool]:
    """A function saying True when a value surely matches `schema` (already a valid JSON Schema); False
    means: ask jsonschema. Built once per schema (a Tool keeps its own)."""
    if schema is True:
        return _always
    if not isinstance(schema, dict):
        return _never
    builders = []
    for key in schema:
        builder = _BUILDERS.get(key)
        if builder is None:
            if key in _ANNOTATIONS:
                continue
            return _never
        if builder not in builders:
            builders.append(builder)
    checks = [builder(schema) for builder in builders]
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def known_valid(schema: Any, value: Any) -> bool:
    """True when `value` surely matches `schema`; builds the checker each call (see `checker`)."""
    return checker(schema)(value)
