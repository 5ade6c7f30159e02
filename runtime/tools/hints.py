"""Python type hints as JSON schemas, for tools written as plain functions."""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import enum
import types
import typing
from typing import Any

__all__ = ["converter_for", "json_default", "schema_for"]

_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    Any: {},
    object: {},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
}
_ARRAYS = (list, tuple, set, frozenset, collections.abc.Sequence, collections.abc.Iterable,
           collections.abc.Set, collections.abc.MutableSequence)
_OBJECTS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


def schema_for(hint: Any) -> dict[str, Any]:
    """The JSON schema of values of type `hint`; raises TypeError for a type JSON cannot carry."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        schema = schema_for(args[0])
        notes = [a for a in args[1:] if isinstance(a, str)]
        return {**schema, "description": " ".join(notes)} if notes else schema
    if hint in _SCALARS:
        return dict(_SCALARS[hint])
    if origin in (typing.Union, types.UnionType):
        return _union(args)
    if origin is typing.Literal:
        return _enum(list(args))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum([member.value for member in hint])
    if hint in _ARRAYS or origin in _ARRAYS:
        return _array(origin or hint, args)
    if hint in _OBJECTS or origin in _OBJECTS:
        schema: dict[str, Any] = {"type": "object"}
        if len(args) == 2 and args[1] is not Any:
            schema["additionalProperties"] = schema_for(args[1])
        return schema
    if typing.is_typeddict(hint):
        return _typed_dict(hint)
    raise TypeError(f"no JSON schema for {hint!r}: use str, int, float, bool, None, list, dict, tuple, "
                    "Literal, an Enum, a TypedDict or a union of these")


def _union(args: tuple[Any, ...]) -> dict[str, Any]:
    members = [schema_for(arg) for arg in args]
    if all(set(m) == {"type"} and isinstance(m["type"], str) for m in members):
        return {"type": [m["type"] for m in members]}
    return {"anyOf": members}


def _enum(values: list[Any]) -> dict[str, Any]:
    kinds = {_json_type(v) for v in values}
    schema: dict[str, Any] = {"enum": values}
    if len(kinds) == 1 and None not in kinds:
        schema = {"type": kinds.pop(), **schema}
    return schema


def _json_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    return {str: "string", int: "integer", float: "number"}.get(type(value))


def _array(container: Any, args: tuple[Any, ...]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array"}
    if container is tuple and args and args[-1] is not Ellipsis:
        items = [schema_for(arg) for arg in args]
        return {**schema, "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
    if args and args[0] is not Any:
        schema["items"] = schema_for(args[0])
    if container in (set, frozenset, collections.abc.Set):
        schema["uniqueItems"] = True
    return schema


def _typed_dict(hint: type) -> dict[str, Any]:
    fields = typing.get_type_hints(hint, include_extras=True)
    return {"type": "object", "properties": {name: schema_for(t) for name, t in fields.items()},
            "required": sorted(hint.__required_keys__), "additionalProperties": False}


def json_default(value: Any) -> Any:
    """A parameter default as JSON (an Enum member as its value); `dataclasses.MISSING` when it has none."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple, dict)) and not value:
        return [] if not isinstance(value, dict) else {}
    return dataclasses.MISSING


def converter_for(hint: Any) -> typing.Callable[[Any], Any] | None:
    """How to turn a JSON argument into the annotated type (Enum members, tuples, sets); None when as is."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return converter_for(args[0])
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    if origin in (typing.Union, types.UnionType):
        inner = [converter_for(arg) for arg in args if arg is not type(None)]
        if len(inner) == 1 and inner[0] is not None:
            convert = inner[0]
            return lambda value: None if value is None else convert(value)
        return None
    container = origin or hint
    if container in (tuple, set, frozenset):
        homogeneous = container is not tuple or (len(args) == 2 and args[1] is Ellipsis)
        items = converter_for(args[0]) if args and homogeneous else None
        return (lambda value: container(map(items, value))) if items else container
    if container in (list, collections.abc.Sequence) and args:
        items = converter_for(args[0])
        return (lambda value: [items(v) for v in value]) if items else None
    return None
