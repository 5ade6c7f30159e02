"""Text tools: text_processor (25 operations) and regex_matcher."""

from __future__ import annotations

import re
import secrets
import string
import textwrap
from typing import Any

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools._kit import obj, op_tool, require
from agentstage.runtime.tools.limits import MAX_ITEMS, bounded
from agentstage.runtime.tools.patterns import compile_pattern
from agentstage.runtime.tools.registry import Tool

__all__ = ["text_tools"]

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text))


def _text(a: dict[str, Any]) -> str:
    return bounded("text_processor", "text", a.get("text", ""))


def _summarize(text: str, sentences: int) -> str:
    parts = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]
    return " ".join(parts[:sentences])


def _template(a: dict[str, Any]) -> str:
    variables = a.get("variables") or {}
    missing = sorted({m for m in re.findall(r"{{\s*(\w+)\s*}}", _text(a)) if m not in variables})
    if missing:
        raise ToolError("text_processor", f"template variables missing: {', '.join(missing)}")
    values = {name: bounded("text_processor", f"variables.{name}", str(variables[name])) for name in variables}
    return compile_pattern("text_processor", r"{{\s*(\w+)\s*}}").replace(lambda m: values[m.group(1)], _text(a))[0]


def _join(a: dict[str, Any]) -> str:
    items = bounded("text_processor", "items", require("text_processor", a, "items")[0], MAX_ITEMS)
    separator = bounded("text_processor", "separator", a.get("separator") if a.get("separator") is not None else " ",
                        1000)
    joined = separator.join(map(str, items))
    return bounded("text_processor", "the joined text", joined)


def _random_string(a: dict[str, Any]) -> str:
    length = int(a.get("length") or 16)
    if not 1 <= length <= 1024:
        raise ToolError("text_processor", "random_string length must be 1..1024")
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def _lines(text: str) -> list[str]:
    return text.splitlines()


_OPERATIONS = {
    "word_count": lambda a: len(re.findall(r"\S+", _text(a))),
    "char_count": lambda a: len(_text(a)),
    "line_count": lambda a: len(_lines(_text(a))),
    "uppercase": lambda a: _text(a).upper(),
    "lowercase": lambda a: _text(a).lower(),
    "title_case": lambda a: _text(a).title(),
    "trim": lambda a: _text(a).strip(),
    "split": lambda a: _text(a).split(a.get("separator") or None),
    "join": _join,
    "reverse": lambda a: _text(a)[::-1],
    "truncate": lambda a: _text(a) if len(_text(a)) <= int(a.get("length") or 100)
    else _text(a)[: max(int(a.get("length") or 100) - 1, 0)] + "…",
    "wrap": lambda a: textwrap.fill(_text(a), width=int(a.get("width") or 80)),
    "indent": lambda a: bounded("text_processor", "the indented text", textwrap.indent(
        _text(a), bounded("text_processor", "prefix", a.get("prefix") if a.get("prefix") is not None else "    ", 100))),
    "extract_emails": lambda a: _EMAIL.findall(_text(a)),
    "extract_urls": lambda a: [url.rstrip(".,;:!?") for url in _URL.findall(_text(a))],
    "extract_numbers": lambda a: [float(n) if "." in n else int(n) for n in _NUMBER.findall(_text(a))],
    "slugify": lambda a: "-".join(w.lower() for w in _words(_text(a))),
    "camel_case": lambda a: "".join(w.lower() if i == 0 else w.capitalize() for i, w in enumerate(_words(_text(a)))),
    "snake_case": lambda a: "_".join(w.lower() for w in _words(_text(a))),
    "kebab_case": lambda a: "-".join(w.lower() for w in _words(_text(a))),
    "dedupe_lines": lambda a: "\n".join(dict.fromkeys(_lines(_text(a)))),
    "sort_lines": lambda a: "\n".join(sorted(_lines(_text(a)))),
    "summarize": lambda a: _summarize(_text(a), int(a.get("sentences") or 3)),
    "random_string": _random_string,
    "template": _template,
}


def _regex(operation: str, text: str, pattern: str, replacement: str = "", flags: str = "") -> dict[str, Any]:
    bounded("regex_matcher", "text", text)
    compiled = compile_pattern("regex_matcher", pattern, flags)
    if operation == "match":
        found = compiled.search(text)
        return {"matched": found is not None, "match": found.group(0) if found else None,
                "groups": list(found.groups()) if found else [], "span": list(found.span()) if found else None}
    if operation == "find_all":
        matches = [m.group(0) for _, m in zip(range(MAX_ITEMS + 1), compiled.finditer(text))]
        return {"matches": matches[:MAX_ITEMS], "count": min(len(matches), MAX_ITEMS),
                "truncated": len(matches) > MAX_ITEMS}
    if operation == "replace":
        result, count = compiled.replace(bounded("regex_matcher", "replacement", replacement, 1000), text)
        return {"result": result, "count": count}
    if operation == "split":
        parts = compiled.split(text)
        return {"parts": parts[:MAX_ITEMS], "truncated": len(parts) > MAX_ITEMS}
    return {"matched": compiled.search(text) is not None}


def text_tools() -> list[Tool]:
    """Fresh instances of the text tools."""
    string_ = {"type": "string"}
    return [
        op_tool("text_processor", "Text operations: counts, case changes, trim/split/join, truncate/wrap/indent, "
                "extract emails/urls/numbers, slug/camel/snake/kebab case, dedupe/sort lines, summarize, "
                "random_string, {{var}} template.", {name: (lambda f: (lambda a: {"result": f(a)}))(fn)
                                                      for name, fn in _OPERATIONS.items()},
                {"text": string_, "separator": string_, "items": {"type": "array"}, "prefix": string_,
                 "length": {"type": "integer", "minimum": 0}, "width": {"type": "integer", "minimum": 1},
                 "sentences": {"type": "integer", "minimum": 1}, "variables": {"type": "object"}}),
        Tool("regex_matcher", "Regular expressions on a text: match, find_all, replace, split or test.",
             obj({"operation": {"type": "string", "enum": ["match", "find_all", "replace", "split", "test"]},
                  "text": string_, "pattern": string_, "replacement": string_,
                  "flags": {"type": "string", "pattern": "^[ims]*$"}}, ("operation", "text", "pattern")), _regex),
    ]
