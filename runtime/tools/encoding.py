"""Encoding and parsing tools: base64_codec, hash_generator, json_parser, url_parser,
uuid_generator, timestamp_converter."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools._kit import obj, op_tool, require
from agentstage.runtime.tools.limits import bounded, check_depth, load_json
from agentstage.runtime.tools.registry import Tool

__all__ = ["encoding_tools", "json_query"]

def json_query(document: Any, path: str = "", pick: list[str] | None = None) -> dict[str, Any]:
    """Select a value from a JSON document (or JSON text) by a dotted path like `items.0.name`,
    optionally keeping only some keys of each object in the result."""
    if isinstance(document, str):
        try:
            document = load_json("json_query", document)
        except ValueError as exc:
            raise ToolError("json_query", f"document is not valid JSON: {exc}") from None
    else:
        check_depth("json_query", document)
    bounded("json_query", "path", path, 1000)
    value = document
    for part in [p for p in path.split(".") if p]:
        if isinstance(value, list) and re.fullmatch(r"-?\d+", part):
            index = int(part)
            if not -len(value) <= index < len(value):
                raise ToolError("json_query", f"index {index} out of range at {part!r}")
            value = value[index]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise ToolError("json_query", f"path {path!r}: no {part!r} here")
    if pick:
        value = [_pick(v, pick) for v in value] if isinstance(value, list) else _pick(value, pick)
    return {"path": path, "value": value}


def _pick(value: Any, keys: list[str]) -> Any:
    return {k: value[k] for k in keys if k in value} if isinstance(value, dict) else value


def _base64(operation: str, text: str, url_safe: bool = False) -> dict[str, Any]:
    bounded("base64_codec", "text", text)
    if operation == "encode":
        raw = text.encode()
        out = base64.urlsafe_b64encode(raw) if url_safe else base64.b64encode(raw)
        return {"operation": operation, "result": out.decode()}
    try:
        padded = text.strip() + "=" * (-len(text.strip()) % 4)
        raw = base64.urlsafe_b64decode(padded) if url_safe else base64.b64decode(padded, validate=True)
        return {"operation": operation, "result": raw.decode()}
    except (binascii.Error, ValueError):
        raise ToolError("base64_codec", "input is not valid base64") from None
    except UnicodeDecodeError:
        raise ToolError("base64_codec", "decoded bytes are not UTF-8 text") from None


def _hash(input: str, algorithm: str = "sha256") -> dict[str, str]:
    bounded("hash_generator", "input", input)
    return {"algorithm": algorithm, "hash": hashlib.new(algorithm, input.encode()).hexdigest()}


def _json_parser(json_text: str, query: str = "") -> dict[str, Any]:
    try:
        value = load_json("json_parser", json_text, "json_text")
    except ValueError as exc:
        return {"valid": False, "error": str(exc)}
    result: dict[str, Any] = {"valid": True, "type": type(value).__name__, "value": value}
    if query:
        result["value"] = json_query(value, query)["value"]
        result["query"] = query
    return result


def _url(a: dict[str, Any]) -> str:
    return bounded("url_parser", "url", require("url_parser", a, "url")[0], 100_000)


def _url_parse(a: dict[str, Any]) -> dict[str, Any]:
    url = _url(a)
    parts = urlsplit(url)
    return {"scheme": parts.scheme, "host": parts.hostname, "port": parts.port, "path": parts.path,
            "query": {k: v if len(v) > 1 else v[0] for k, v in parse_qs(parts.query).items()},
            "fragment": parts.fragment, "username": parts.username}


def _url_validate(a: dict[str, Any]) -> dict[str, Any]:
    url = _url(a)
    parts = urlsplit(url)
    valid = bool(parts.scheme and parts.netloc) and " " not in url
    return {"url": url, "valid": valid, "reason": None if valid else "needs a scheme and a host, no spaces"}


def _uuid(count: int = 1, format: str = "standard") -> dict[str, Any]:
    values = [str(uuid.uuid4()) for _ in range(count)]
    if format == "uppercase":
        values = [v.upper() for v in values]
    elif format == "no-dashes":
        values = [v.replace("-", "") for v in values]
    return {"uuids": values, "count": count}


_FORMATS = ("unix", "unix_ms", "rfc3339", "iso8601", "date", "human")


def _timestamp(value: str | int | float, from_format: str = "auto", to_format: str = "rfc3339") -> dict[str, Any]:
    moment = _parse_time(value, from_format)
    rendered: Any = {
        "unix": int(moment.timestamp()), "unix_ms": int(moment.timestamp() * 1000),
        "rfc3339": moment.isoformat().replace("+00:00", "Z"), "iso8601": moment.isoformat(),
        "date": moment.date().isoformat(), "human": moment.strftime("%A, %d %B %Y %H:%M:%S UTC"),
    }[to_format]
    return {"input": value, "format": to_format, "result": rendered}


def _parse_time(value: str | int | float, from_format: str) -> datetime:
    text = bounded("timestamp_converter", "value", str(value).strip(), 100)
    try:
        if from_format == "unix_ms" or (from_format == "auto" and text.isdigit() and len(text) >= 12):
            return datetime.fromtimestamp(float(text) / 1000, UTC)
        if from_format == "unix" or (from_format == "auto" and text.replace(".", "", 1).lstrip("-").isdigit()):
            return datetime.fromtimestamp(float(text), UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise ToolError("timestamp_converter", f"cannot read {value!r} as a {from_format} time") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def encoding_tools() -> list[Tool]:
    """Fresh instances of the encoding tools."""
    text = {"type": "string"}
    return [
        Tool("base64_codec", "Encode text to base64 or decode base64 to text (standard or URL-safe alphabet).",
             obj({"operation": {"type": "string", "enum": ["encode", "decode"]}, "text": text,
                  "url_safe": {"type": "boolean"}}, ("operation", "text")), _base64),
        Tool("hash_generator", "md5, sha1, sha256 or sha512 hex digest of a text.",
             obj({"input": text, "algorithm": {"type": "string", "enum": ["md5", "sha1", "sha256", "sha512"]}},
                 ("input",)), _hash),
        Tool("json_parser", "Parse and validate JSON text; optionally select a value by a dot path like 'a.0.b'.",
             obj({"json_text": text, "query": text}, ("json_text",)), _json_parser),
        op_tool("url_parser", "Parse, validate, percent-encode or decode a URL.", {
            "parse": _url_parse, "validate": _url_validate,
            "encode": lambda a: {"result": quote(_url(a), safe="")},
            "decode": lambda a: {"result": unquote(_url(a))},
        }, {"url": text}, ("url",)),
        Tool("uuid_generator", "Generate version-4 UUIDs: count 1-100; format standard, uppercase or no-dashes.",
             obj({"count": {"type": "integer", "minimum": 1, "maximum": 100},
                  "format": {"type": "string", "enum": ["standard", "uppercase", "no-dashes"]}}), _uuid),
        Tool("timestamp_converter", "Convert a time between unix, unix_ms, rfc3339, iso8601, date and human.",
             obj({"value": {"type": ["string", "number"]},
                  "from_format": {"type": "string", "enum": ["auto", *_FORMATS[:4]]},
                  "to_format": {"type": "string", "enum": list(_FORMATS)}}, ("value",)), _timestamp),
    ]
