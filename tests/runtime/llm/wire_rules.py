"""What each vendor's public API documentation requires of a request, as checks returning problems.

OpenAI Chat Completions, Azure OpenAI, Anthropic Messages, Gemini generateContent and Ollama
/api/chat: required headers, required fields, message roles and ordering, tool schemas, and
that every tool result answers a tool call the model made.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ROUTES = [
    ("openai", re.compile(r"^/v1/chat/completions$")),
    ("azure", re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/chat/completions$")),
    ("anthropic", re.compile(r"^/v1/messages$")),
    ("gemini", re.compile(r"^/v1beta/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$")),
    ("ollama", re.compile(r"^/api/chat$")),
]


def route(path: str) -> tuple[str, dict[str, str]]:
    """(vendor, path parameters) of a request path; vendor `unknown` when no API has that path."""
    for vendor, pattern in _ROUTES:
        match = pattern.match(path)
        if match:
            return vendor, match.groupdict()
    return "unknown", {}


def error_body(vendor: str, status: int, message: str) -> dict[str, Any]:
    """The vendor's error document."""
    if vendor == "anthropic":
        return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
    if vendor == "gemini":
        return {"error": {"code": status, "message": message, "status": "INVALID_ARGUMENT"}}
    if vendor == "ollama":
        return {"error": message}
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}


def check(vendor: str, params: dict[str, str], query: dict[str, list[str]], headers: dict[str, str],
          body: Any) -> list[str]:
    """Every way the request breaks the vendor's documented rules (empty when it is valid)."""
    if vendor == "unknown":
        return ["no such endpoint"]
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    if "application/json" not in headers.get("content-type", ""):
        return ["Content-Type must be application/json"]
    return globals()[f"_check_{vendor}"](params, query, headers, body)


def _check_openai(params: dict[str, str], query: dict[str, list[str]], headers: dict[str, str],
                  body: dict[str, Any]) -> list[str]:
    problems = [] if re.fullmatch(r"Bearer \S+", headers.get("authorization", "")) else ["missing bearer key"]
    if not isinstance(body.get("model"), str) or not body["model"]:
        problems.append("model is required")
    return problems + _chat_body(body)


def _check_azure(params: dict[str, str], query: dict[str, list[str]], headers: dict[str, str],
                 body: dict[str, Any]) -> list[str]:
    bearer = re.fullmatch(r"Bearer \S+", headers.get("authorization", ""))
    problems = [] if headers.get("api-key") or bearer else ["missing api-key header or Entra ID bearer token"]
    if "authorization" in headers and (headers.get("api-key") or not bearer):
        problems.append("Authorization must be one Entra ID bearer token, without an api-key")
    if not query.get("api-version"):
        problems.append("api-version query parameter is required")
    return problems + _chat_body(body)


def _chat_body(body: dict[str, Any]) -> list[str]:
    problems = _stream_flags(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return problems + ["messages must be a non-empty array"]
    pending: set[str] = set()
    for i, m in enumerate(messages):
        role = m.get("role")
        if role not in ("system", "developer", "user", "assistant", "tool"):
            problems.append(f"messages[{i}].role {role!r} is invalid")
        if pending and role != "tool":
            problems.append(f"messages[{i}]: tool_calls {sorted(pending)} were not answered by tool messages")
            pending = set()
        if role == "tool":
            if m.get("tool_call_id") not in pending:
                problems.append(f"messages[{i}].tool_call_id {m.get('tool_call_id')!r} answers no pending tool call")
            pending.discard(m.get("tool_call_id"))
            if not isinstance(m.get("content"), str):
                problems.append(f"messages[{i}].content must be a string")
        for j, call in enumerate(m.get("tool_calls") or ()):
            if role != "assistant" or call.get("type") != "function" or not call.get("id"):
                problems.append(f"messages[{i}].tool_calls[{j}] needs id, type function, assistant role")
                continue
            function = call.get("function") or {}
            if not _json_object_string(function.get("arguments")) or not function.get("name"):
                problems.append(f"messages[{i}].tool_calls[{j}].function needs a name and JSON-string arguments")
            pending.add(call["id"])
        if role == "assistant" and not isinstance(m.get("content"), str) and not (
                m.get("content") is None and m.get("tool_calls")):
            problems.append(f"messages[{i}].content must be a string (null only with tool_calls)")
        if role in ("user", "system") and not isinstance(m.get("content"), str):
            problems.append(f"messages[{i}].content must be a string")
    for i, tool in enumerate(body.get("tools") or ()):
        function = tool.get("function") or {}
        if tool.get("type") != "function" or not _TOOL_NAME.match(function.get("name", "")):
            problems.append(f"tools[{i}] needs type function and a valid name")
        problems += _object_schema(f"tools[{i}].function.parameters", function.get("parameters"))
    return problems + _openai_choice(body)


def _openai_choice(body: dict[str, Any]) -> list[str]:
    if "tool_choice" not in body:
        return []
    choice, names = body["tool_choice"], {(t.get("function") or {}).get("name") for t in body.get("tools") or ()}
    if not names:
        return ["tool_choice is only allowed when tools are specified"]
    if choice in ("auto", "required", "none"):
        return []
    if (isinstance(choice, dict) and choice.get("type") == "function"
            and (choice.get("function") or {}).get("name") in names):
        return []
    return [f"tool_choice {choice!r} is not auto, required, none or a declared function"]


def compatible_problems(vendor: str, body: Any) -> list[str]:
    """What an OpenAI-compatible server (llama-cpp-python's, pydantic-validated) rejects that OpenAI accepts."""
    if vendor != "openai" or not isinstance(body, dict):
        return []
    return [f"('body', 'messages', {i}, 'content'): Input should be a valid string"
            for i, m in enumerate(body.get("messages") or ()) if not isinstance(m.get("content"), str)]


def _stream_flags(body: dict[str, Any]) -> list[str]:
    if "stream" in body and not isinstance(body["stream"], bool):
        return ["stream must be a boolean"]
    if "stream_options" in body and body.get("stream") is not True:
        return ["stream_options is only allowed when stream is true"]
    return []


def _check_anthropic(params: dict[str, str], query: dict[str, list[str]], headers: dict[str, str],
                     body: dict[str, Any]) -> list[str]:
    problems = [] if headers.get("x-api-key") else ["missing x-api-key header"]
    if not headers.get("anthropic-version"):
        problems.append("missing anthropic-version header")
    if not isinstance(body.get("model"), str) or not body["model"]:
        problems.append("model is required")
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        problems.append("max_tokens is required and must be >= 1")
    if "system" in body and not isinstance(body["system"], (str, list)):
        problems.append("system must be a string or text blocks")
    problems += _stream_flags(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return problems + ["messages must be a non-empty array"]
    if messages[0].get("role") != "user":
        problems.append("the first message must use the user role")
    pending: set[str] = set()
    for i, m in enumerate(messages):
        if m.get("role") not in ("user", "assistant"):
            problems.append(f"messages[{i}].role must be user or assistant (system goes in the system field)")
        content = m.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        results = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
        if pending and results != pending:
            problems.append(f"messages[{i}]: tool_use ids {sorted(pending)} need tool_result blocks in this message")
        pending = set()
        for b in blocks:
            if b.get("type") == "text" and not b.get("text"):
                problems.append(f"messages[{i}]: text content blocks must be non-empty")
            if b.get("type") == "tool_use":
                if m.get("role") != "assistant" or not b.get("id") or not isinstance(b.get("input"), dict):
                    problems.append(f"messages[{i}]: tool_use needs assistant role, id and object input")
                pending.add(b.get("id"))
    for i, tool in enumerate(body.get("tools") or ()):
        if not _TOOL_NAME.match(tool.get("name", "")):
            problems.append(f"tools[{i}].name is invalid")
        problems += _object_schema(f"tools[{i}].input_schema", tool.get("input_schema"))
    return problems + _anthropic_choice(body)


def _anthropic_choice(body: dict[str, Any]) -> list[str]:
    if "tool_choice" not in body:
        return []
    choice, names = body["tool_choice"], {t.get("name") for t in body.get("tools") or ()}
    if not names:
        return ["tool_choice requires tools"]
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind in ("auto", "any", "none") and set(choice) <= {"type", "disable_parallel_tool_use"}:
        return []
    if kind == "tool" and choice.get("name") in names:
        return []
    return [f"tool_choice {choice!r} must be type auto, any, none, or tool with a declared name"]


def _check_gemini(params: dict[str, str], query: dict[str, list[str]], headers: dict[str, str],
                  body: dict[str, Any]) -> list[str]:
    problems = [] if headers.get("x-goog-api-key") else ["missing x-goog-api-key header"]
    if "key" in query:
        problems.append("API key must not travel in the URL")
    if params.get("method") == "streamGenerateContent" and query.get("alt") != ["sse"]:
        problems.append("streamGenerateContent needs alt=sse for server-sent events")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return problems + ["contents must be a non-empty array"]
    problems += _gemini_call_ids(contents)
    for i, content in enumerate(contents):
        if content.get("role") not in ("user", "model"):
            problems.append(f"contents[{i}].role must be user or model")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            problems.append(f"contents[{i}].parts must be a non-empty array")
            continue
        for j, part in enumerate(parts):
            kinds = [k for k in ("text", "functionCall", "functionResponse") if k in part]
            if len(kinds) != 1:
                problems.append(f"contents[{i}].parts[{j}] needs exactly one of text, functionCall, functionResponse")
            elif kinds[0] == "functionResponse" and not (isinstance(part[kinds[0]].get("response"), dict)
                                                         and part[kinds[0]].get("name")):
                problems.append(f"contents[{i}].parts[{j}].functionResponse needs a name and an object response")
            elif kinds[0] == "functionCall" and not isinstance(part[kinds[0]].get("args", {}), dict):
                problems.append(f"contents[{i}].parts[{j}].functionCall.args must be an object")
    system = body.get("systemInstruction")
    if system is not None and not (isinstance(system.get("parts"), list) and system["parts"]):
        problems.append("systemInstruction needs parts")
    for i, tool in enumerate(body.get("tools") or ()):
        for j, decl in enumerate(tool.get("functionDeclarations") or ()):
            where = f"tools[{i}].functionDeclarations[{j}]"
            if not _TOOL_NAME.match(decl.get("name", "")):
                problems.append(f"{where}.name is invalid")
            if ("parameters" in decl) == ("parametersJsonSchema" in decl):
                problems.append(f"{where} needs exactly one of parameters, parametersJsonSchema")
            problems += _object_schema(where, decl.get("parametersJsonSchema", decl.get("parameters")))
    return problems + _gemini_choice(body)


def _gemini_call_ids(contents: list[Any]) -> list[str]:
    """A `functionResponse.id` matches a `functionCall.id` of the model turn before it; calls with ids get them back."""
    problems: list[str] = []
    for i, content in enumerate(contents):
        if not isinstance(content, dict) or i == 0:
            continue
        previous = contents[i - 1] if isinstance(contents[i - 1], dict) else {}
        calls = [p["functionCall"] for p in previous.get("parts") or () if isinstance(p, dict) and "functionCall" in p]
        ids = {c.get("id") for c in calls if c.get("id")}
        answered = [p["functionResponse"] for p in content.get("parts") or ()
                    if isinstance(p, dict) and isinstance(p.get("functionResponse"), dict)]
        for j, response in enumerate(answered):
            if "id" in response and response["id"] not in ids:
                problems.append(f"contents[{i}] functionResponse {j} id {response['id']!r} matches no functionCall id")
        missing = ids - {r.get("id") for r in answered}
        if answered and missing:
            problems.append(f"contents[{i}]: functionCall ids {sorted(missing)} got no functionResponse with that id")
    return problems


def _gemini_choice(body: dict[str, Any]) -> list[str]:
    if "toolConfig" not in body:
        return []
    config = (body["toolConfig"] or {}).get("functionCallingConfig") or {}
    declared = {d.get("name") for t in body.get("tools") or () for d in t.get("functionDeclarations") or ()}
    if config.get("mode") not in ("AUTO", "ANY", "NONE", "VALIDATED"):
        return [f"toolConfig.functionCallingConfig.mode {config.get('mode')!r} is invalid"]
    allowed = config.get("allowedFunctionNames")
    if allowed is not None and (config["mode"] != "ANY" or not set(allowed) <= declared or not allowed):
        return ["allowedFunctionNames needs mode ANY and declared function names"]
    return []


def _check_ollama(params: dict[str, str], query: dict[str, list[str]], headers: dict[str, str],
                  body: dict[str, Any]) -> list[str]:
    problems = [] if isinstance(body.get("model"), str) and body["model"] else ["model is required"]
    problems += _stream_flags(body)
    for i, m in enumerate(body.get("messages") or ()):
        if m.get("role") not in ("system", "user", "assistant", "tool"):
            problems.append(f"messages[{i}].role is invalid")
        for j, call in enumerate(m.get("tool_calls") or ()):
            if not isinstance((call.get("function") or {}).get("arguments"), dict):
                problems.append(f"messages[{i}].tool_calls[{j}].function.arguments must be an object")
    for i, tool in enumerate(body.get("tools") or ()):
        if tool.get("type") != "function":
            problems.append(f"tools[{i}].type must be function")
        problems += _object_schema(f"tools[{i}].function.parameters", (tool.get("function") or {}).get("parameters"))
    if "tool_choice" in body:
        problems.append("tool_choice is not an /api/chat field")
    return problems


def _object_schema(where: str, schema: Any) -> list[str]:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return [f"{where} must be a JSON schema of type object"]
    return []


def _json_object_string(value: Any) -> bool:
    try:
        return isinstance(value, str) and isinstance(json.loads(value), dict)
    except ValueError:
        return False
