"""OpenAI Chat Completions (and any OpenAI-compatible server: vLLM, llama.cpp server, LM Studio).

`POST {base_url}/chat/completions` with a bearer key; tools as JSON-schema functions,
`tool_calls` in answers (several per turn), `tool` role results, SSE streaming with
`stream_options.include_usage` so the final chunk carries usage.
"""

from __future__ import annotations

import json
from typing import Any, Unpack

import httpx

from agentstage.runtime.errors import FatalError, TransientError
from agentstage.runtime.llm._http import HttpCall, HttpOptions, HttpProvider, parse_arguments
from agentstage.runtime.llm._sse import DONE, StreamParser
from agentstage.runtime.llm.tool_choice import KEYWORDS, effective_choice
from agentstage.runtime.llm.types import ChatMessage, LLMRequest, LLMResponse, StreamDelta, ToolCall, UNREPORTED, Usage

__all__ = ["OpenAIProvider", "chat_body", "chat_messages"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"


def chat_messages(request: LLMRequest, empty_content: str | None = None) -> list[dict[str, Any]]:
    """The conversation in Chat Completions shape (also used by Azure).

    `empty_content` is the content of a tool-call message without text: OpenAI accepts null,
    OpenAI-compatible servers (llama.cpp, vLLM, LM Studio) validate it as a string.
    """
    out: list[dict[str, Any]] = [{"role": "system", "content": request.system}] if request.system else []
    for message in request.messages:
        out.append(_message(message, empty_content))
    return out


def _message(message: ChatMessage, empty_content: str | None) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        return {"role": "assistant", "content": message.content or empty_content, "tool_calls": [
            {"id": call.id, "type": "function",
             "function": {"name": call.name, "arguments": json.dumps(call.arguments)}}
            for call in message.tool_calls]}
    return {"role": message.role, "content": message.content}


def chat_body(request: LLMRequest, model: str, *, stream: bool, max_tokens_field: str,
              empty_content: str | None = None, compatible: bool = False) -> dict[str, Any]:
    """The request body of one chat completion.

    `compatible` sends `required` with a single tool as that tool's name: the same demand, and
    the form compatible servers honour (llama-cpp-python ignores `required` and calls no tool).
    """
    body: dict[str, Any] = {"messages": chat_messages(request, empty_content)}
    if model:
        body["model"] = model
    if request.tools:
        body["tools"] = [{"type": "function", "function": {"name": t.name, "description": t.description,
                                                           "parameters": t.parameters}} for t in request.tools]
    choice = effective_choice(request)
    if compatible and choice == "required" and len(request.tools) == 1:
        choice = request.tools[0].name
    if choice is not None:
        body["tool_choice"] = choice if choice in KEYWORDS else {"type": "function", "function": {"name": choice}}
    if request.max_output_tokens is not None:
        body[max_tokens_field] = request.max_output_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


class OpenAIProvider(HttpProvider):
    """Chat Completions adapter; `base_url` may point at any OpenAI-compatible server."""

    name = "openai"

    def __init__(self, api_key: str, model: str = DEFAULT_MODEL, base_url: str = DEFAULT_BASE_URL,
                 client: httpx.Client | None = None, *, organization: str = "",
                 **http: Unpack[HttpOptions]) -> None:
        super().__init__(client, **http)
        self.model = model or DEFAULT_MODEL
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        if organization:
            self._headers["OpenAI-Organization"] = organization
        # NOTE: OpenAI deprecated max_tokens for max_completion_tokens; compatible servers know max_tokens.
        official = self.base_url == DEFAULT_BASE_URL
        self._max_tokens_field = "max_completion_tokens" if official else "max_tokens"
        self._empty_content = None if official else ""
        self._compatible = not official

    def model_listing(self) -> tuple[str, dict[str, str]]:
        """URL and headers of the GET that lists the server's models (`data[].id`)."""
        return f"{self.base_url}/models", dict(self._headers)

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def body(self, request: LLMRequest, *, stream: bool) -> dict[str, Any]:
        return chat_body(request, request.model or self.model, stream=stream, max_tokens_field=self._max_tokens_field,
                         empty_content=self._empty_content, compatible=self._compatible)

    def prepare(self, request: LLMRequest, *, stream: bool) -> HttpCall:
        return HttpCall(self.url, self._headers, self.body(request, stream=stream))

    def parse(self, request: LLMRequest, payload: dict[str, Any]) -> LLMResponse:
        try:
            choice = payload["choices"][0]
            message = choice["message"]
            calls = tuple(ToolCall(c["id"], c["function"]["name"],
                                   parse_arguments(self.name, c["function"]["name"], c["function"].get("arguments")))
                          for c in message.get("tool_calls") or ())
            return LLMResponse(content=message.get("content") or "", tool_calls=calls,
                               usage=_usage(payload.get("usage")), model=payload.get("model", self.model),
                               finish_reason=choice.get("finish_reason") or "", metadata={"id": payload.get("id")})
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise self.shape_error(exc, payload) from None

    def stream_parser(self, request: LLMRequest) -> StreamParser:
        return _ChunkAssembler(self.name, self.model)

    def usage_of(self, payload: Any) -> Usage:
        return _usage(payload.get("usage")) if isinstance(payload, dict) else UNREPORTED


class _ChunkAssembler(StreamParser):
    """Builds one response from `chat.completion.chunk`s; tool-call fragments are joined by index."""

    def __init__(self, provider: str, model: str) -> None:
        self.provider = provider
        self.model = model
        self.text: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish_reason = ""
        self.usage = UNREPORTED
        self.id = None

    def feed(self, event: str, data: Any) -> list[StreamDelta]:
        if data is DONE:
            self.done = True
            return [StreamDelta(final=self.result())]
        text = self.add(data)
        return [StreamDelta(text=text)] if text else []

    def end(self) -> list[StreamDelta]:
        raise TransientError(self.provider, "stream ended before [DONE] (truncated)")

    def add(self, chunk: Any) -> str:
        if not isinstance(chunk, dict):
            raise FatalError(self.provider, f"unexpected stream chunk: {str(chunk)[:120]}")
        if "error" in chunk:
            error = chunk["error"]
            message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
            raise TransientError(self.provider, f"error in stream: {message}")
        self.model = chunk.get("model") or self.model
        self.id = chunk.get("id") or self.id
        if chunk.get("usage"):
            self.usage = _usage(chunk["usage"])
        text = ""
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            text += delta.get("content") or ""
            for fragment in delta.get("tool_calls") or ():
                call = self.calls.setdefault(fragment.get("index", 0), {"id": "", "name": "", "arguments": []})
                function = fragment.get("function") or {}
                call["id"] = fragment.get("id") or call["id"]
                call["name"] = function.get("name") or call["name"]
                call["arguments"].append(function.get("arguments") or "")
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
        if text:
            self.text.append(text)
        return text

    def result(self) -> LLMResponse:
        calls = tuple(ToolCall(c["id"], c["name"], parse_arguments(self.provider, c["name"], "".join(c["arguments"])))
                      for _, c in sorted(self.calls.items()))
        return LLMResponse(content="".join(self.text), tool_calls=calls, usage=self.usage, model=self.model,
                           finish_reason=self.finish_reason, metadata={"id": self.id, "streamed": True})


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return UNREPORTED
    return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))
