"""Google Gemini API: `models/{model}:generateContent` (and `:streamGenerateContent?alt=sse`).

The key travels in the `x-goog-api-key` header, never in the URL. Conversation as
`contents`/`parts`; tools as `functionDeclarations` with their JSON schema in
`parametersJsonSchema` (full JSON Schema, so tool schemas need no translation);
`functionCall` / `functionResponse` parts, each call's `thoughtSignature` sent back with it and
its `id` (when the server gave one) in both the call and the matching response; token counts
from `usageMetadata`.
"""

from __future__ import annotations

import json
from typing import Any, Unpack
from urllib.parse import quote

import httpx

from agentstage.runtime.errors import FatalError, TransientError
from agentstage.runtime.llm._http import HttpCall, HttpOptions, HttpProvider, parse_arguments
from agentstage.runtime.llm._sse import StreamParser
from agentstage.runtime.llm.tool_choice import effective_choice
from agentstage.runtime.llm.types import (LLMRequest, LLMResponse, StreamDelta, ToolCall, UNREPORTED, Usage,
                                         local_call_id)

__all__ = ["GeminiProvider", "gemini_contents"]

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
DEFAULT_MODEL = "gemini-2.5-flash"
_MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}


_SERVER_ID = "id"
"""Key in `ToolCall.extra` of the id the server gave a function call (absent when it gave none)."""


def gemini_contents(request: LLMRequest) -> list[dict[str, Any]]:
    """The conversation as `contents`; consecutive tool results share one user turn."""
    out: list[dict[str, Any]] = []
    calls = {c.id: c for m in request.messages for c in m.tool_calls}
    for message in request.messages:
        if message.role == "tool":
            part = {"functionResponse": _function_response(message.content, message.name,
                                                           calls.get(message.tool_call_id or ""))}
            if out and out[-1]["role"] == "user" and all("functionResponse" in p for p in out[-1]["parts"]):
                out[-1]["parts"].append(part)
            else:
                out.append({"role": "user", "parts": [part]})
        elif message.role == "assistant":
            parts: list[dict[str, Any]] = [{"text": message.content}] if message.content else []
            parts += [_function_call_part(c) for c in message.tool_calls]
            if parts:
                out.append({"role": "model", "parts": parts})
        elif message.content:
            out.append({"role": "user", "parts": [{"text": message.content}]})
    return out


def _function_call_part(call: ToolCall) -> dict[str, Any]:
    """A `functionCall` part: the server's id goes back inside it, other extras (`thoughtSignature`) beside it."""
    server_id = call.extra.get(_SERVER_ID)
    body = {**({"id": server_id} if server_id else {}), "name": call.name, "args": call.arguments}
    return {"functionCall": body, **{k: v for k, v in call.extra.items() if k != _SERVER_ID}}


def _function_response(content: str, name: str | None, call: ToolCall | None) -> dict[str, Any]:
    """A `functionResponse` carrying the matching call's server id, so parallel calls of one function stay apart.

    NOTE: an id this adapter made up for an id-less call is never sent: the server did not issue it.
    """
    server_id = call.extra.get(_SERVER_ID) if call is not None else None
    response = {"name": name or (call.name if call is not None else ""), "response": _as_object(content)}
    return {"id": server_id, **response} if server_id else response


def _usage(meta: dict[str, Any]) -> Usage:
    """`usageMetadata` as usage; thinking tokens are output tokens (billed as such)."""
    output = int(meta.get("candidatesTokenCount") or 0) + int(meta.get("thoughtsTokenCount") or 0)
    return Usage(int(meta.get("promptTokenCount") or 0), output)


def _as_object(content: str) -> dict[str, Any]:
    """`functionResponse.response` must be a JSON object."""
    try:
        value = json.loads(content)
    except ValueError:
        return {"result": content}
    return value if isinstance(value, dict) else {"result": value}


class GeminiProvider(HttpProvider):
    """generateContent adapter."""

    name = "gemini"

    def __init__(self, api_key: str, model: str = DEFAULT_MODEL, base_url: str = DEFAULT_BASE_URL,
                 client: httpx.Client | None = None, **http: Unpack[HttpOptions]) -> None:
        super().__init__(client, **http)
        self.model = model or DEFAULT_MODEL
        self.base_url = base_url.rstrip("/")
        self._headers = {"x-goog-api-key": api_key}

    def model_listing(self) -> tuple[str, dict[str, str]]:
        """URL and headers of the GET that lists the models (`models[].name`, `models/` prefixed); the key goes
        in a header, never in the query string."""
        return f"{self.base_url}/models?pageSize=1000", dict(self._headers)

    def url(self, model: str, *, stream: bool) -> str:
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"{self.base_url}/models/{quote(model, safe='')}:{method}"

    def body(self, request: LLMRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"contents": gemini_contents(request)}
        if request.system:
            body["systemInstruction"] = {"parts": [{"text": request.system}]}
        if request.tools:
            body["tools"] = [{"functionDeclarations": [
                {"name": t.name, "description": t.description, "parametersJsonSchema": t.parameters}
                for t in request.tools]}]
        choice = effective_choice(request)
        if choice is not None:
            body["toolConfig"] = {"functionCallingConfig": {"mode": _MODES[choice]} if choice in _MODES
                                  else {"mode": "ANY", "allowedFunctionNames": [choice]}}
        config: dict[str, Any] = {}
        if request.max_output_tokens is not None:
            config["maxOutputTokens"] = request.max_output_tokens
        if request.temperature is not None:
            config["temperature"] = request.temperature
        if config:
            body["generationConfig"] = config
        return body

    def prepare(self, request: LLMRequest, *, stream: bool) -> HttpCall:
        return HttpCall(self.url(request.model or self.model, stream=stream), self._headers, self.body(request))

    def parse(self, request: LLMRequest, payload: dict[str, Any]) -> LLMResponse:
        state = _Assembler(self.name, request.model or self.model)
        state.add(payload)
        return state.result(streamed=False)

    def stream_parser(self, request: LLMRequest) -> StreamParser:
        return _Assembler(self.name, request.model or self.model)

    def usage_of(self, payload: Any) -> Usage:
        meta = payload.get("usageMetadata") if isinstance(payload, dict) else None
        return _usage(meta) if isinstance(meta, dict) and meta else UNREPORTED


class _Assembler(StreamParser):
    """Accumulates `GenerateContentResponse` chunks (one for generate, many for a stream, which ends with the body)."""

    def __init__(self, provider: str, model: str) -> None:
        self.provider = provider
        self.model = model
        self.text: list[str] = []
        self.calls: list[ToolCall] = []
        self.finish_reason = ""
        self.usage = UNREPORTED

    def feed(self, event: str, data: Any) -> list[StreamDelta]:
        text = self.add(data)
        return [StreamDelta(text=text)] if text else []

    def end(self) -> list[StreamDelta]:
        if not self.finish_reason:
            raise TransientError(self.provider, "stream ended before a finishReason (truncated)")
        return [StreamDelta(final=self.result(streamed=True))]

    def add(self, chunk: Any) -> str:
        try:
            return self._add(chunk)
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise FatalError(self.provider, f"unexpected response shape ({type(exc).__name__}: {exc}): "
                                            f"{str(chunk)[:160]}") from None

    def _add(self, chunk: dict[str, Any]) -> str:
        if "error" in chunk:
            error = chunk["error"]
            raise TransientError(self.provider, f"error in stream: {error.get('message', error)}")
        self.model = chunk.get("modelVersion") or self.model
        meta = chunk.get("usageMetadata")
        if meta:
            self.usage = _usage(meta)
        candidates = chunk.get("candidates") or []
        if not candidates:
            blocked = (chunk.get("promptFeedback") or {}).get("blockReason")
            if blocked:
                raise FatalError(self.provider, f"prompt blocked: {blocked}")
            return ""
        candidate = candidates[0]
        text = ""
        for part in (candidate.get("content") or {}).get("parts") or ():
            if "functionCall" in part:
                call = part["functionCall"]
                server_id = call.get("id")
                # NOTE: Gemini 3 rejects a function-calling turn whose thoughtSignature is not sent back.
                extra = {"thoughtSignature": part["thoughtSignature"]} if "thoughtSignature" in part else {}
                if server_id:
                    extra[_SERVER_ID] = server_id
                self.calls.append(ToolCall(server_id or local_call_id(), call["name"],
                                           parse_arguments(self.provider, call["name"], call.get("args")), extra))
            elif "text" in part and not part.get("thought"):
                text += part["text"]
        self.finish_reason = candidate.get("finishReason") or self.finish_reason
        if text:
            self.text.append(text)
        return text

    def result(self, *, streamed: bool) -> LLMResponse:
        if not self.finish_reason and not self.text and not self.calls:
            raise FatalError(self.provider, "response has no candidates")
        return LLMResponse(content="".join(self.text), tool_calls=tuple(self.calls), usage=self.usage,
                           model=self.model, finish_reason=self.finish_reason, metadata={"streamed": streamed})
