"""Anthropic Messages API: `POST {base_url}/v1/messages` with `x-api-key` and `anthropic-version`.

The system prompt travels apart from the messages; tool calls are `tool_use` content blocks
and their results `tool_result` blocks in the next user message; streaming is SSE with
typed events (`message_start`, `content_block_delta`, `message_delta`, `message_stop`).
"""

from __future__ import annotations

from typing import Any, Unpack

import httpx

from agentstage.runtime.errors import FatalError, TransientError
from agentstage.runtime.llm._http import HttpCall, HttpOptions, HttpProvider, parse_arguments
from agentstage.runtime.llm._sse import StreamParser
from agentstage.runtime.llm.tool_choice import effective_choice
from agentstage.runtime.llm.types import LLMRequest, LLMResponse, StreamDelta, ToolCall, UNREPORTED, Usage

__all__ = ["AnthropicProvider", "anthropic_messages"]

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MODEL = "claude-sonnet-4-5"
API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
_CHOICES = {"auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}
_RETRYABLE_STREAM_ERRORS = frozenset({"overloaded_error", "api_error", "rate_limit_error"})


def anthropic_messages(request: LLMRequest) -> list[dict[str, Any]]:
    """The conversation as Messages API turns; consecutive tool results share one user turn."""
    out: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "tool":
            block = {"type": "tool_result", "tool_use_id": message.tool_call_id or "", "content": message.content}
            if out and out[-1]["role"] == "user" and _all_tool_results(out[-1]["content"]):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif message.role == "assistant":
            blocks: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
            blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in message.tool_calls]
            if blocks:
                out.append({"role": "assistant", "content": blocks})
        elif message.content:
            out.append({"role": "user", "content": message.content})
    return out


def _all_tool_results(content: Any) -> bool:
    return isinstance(content, list) and all(block.get("type") == "tool_result" for block in content)


class AnthropicProvider(HttpProvider):
    """Messages API adapter."""

    name = "anthropic"

    def __init__(self, api_key: str, model: str = DEFAULT_MODEL, base_url: str = DEFAULT_BASE_URL,
                 client: httpx.Client | None = None, *, max_tokens: int = DEFAULT_MAX_TOKENS,
                 **http: Unpack[HttpOptions]) -> None:
        super().__init__(client, **http)
        self.model = model or DEFAULT_MODEL
        self.base_url = base_url.rstrip("/")
        self.max_tokens = max_tokens
        self._headers = {"x-api-key": api_key, "anthropic-version": API_VERSION}

    @property
    def url(self) -> str:
        return f"{self.base_url}/v1/messages"

    def body(self, request: LLMRequest, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"model": request.model or self.model,
                                "max_tokens": request.max_output_tokens or self.max_tokens,
                                "messages": anthropic_messages(request)}
        if request.system:
            body["system"] = request.system
        if request.tools:
            body["tools"] = [{"name": t.name, "description": t.description, "input_schema": t.parameters}
                             for t in request.tools]
        choice = effective_choice(request)
        if choice is not None:
            body["tool_choice"] = _CHOICES.get(choice) or {"type": "tool", "name": choice}
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if stream:
            body["stream"] = True
        return body

    def prepare(self, request: LLMRequest, *, stream: bool) -> HttpCall:
        return HttpCall(self.url, self._headers, self.body(request, stream=stream))

    def parse(self, request: LLMRequest, payload: dict[str, Any]) -> LLMResponse:
        try:
            text = "".join(b["text"] for b in payload["content"] if b["type"] == "text")
            calls = tuple(ToolCall(b["id"], b["name"], parse_arguments(self.name, b["name"], b.get("input")))
                          for b in payload["content"] if b["type"] == "tool_use")
            return LLMResponse(content=text, tool_calls=calls, usage=self.usage_of(payload),
                               model=payload.get("model", self.model), finish_reason=payload.get("stop_reason") or "",
                               metadata={"id": payload.get("id")})
        except (KeyError, TypeError, AttributeError) as exc:
            raise self.shape_error(exc, payload) from None

    def stream_parser(self, request: LLMRequest) -> StreamParser:
        return _StreamState(self.name, self.model)

    def usage_of(self, payload: Any) -> Usage:
        usage = payload.get("usage") if isinstance(payload, dict) else None
        return _usage(usage) if isinstance(usage, dict) else UNREPORTED


class _StreamState(StreamParser):
    """Assembles content blocks from stream events; tool input arrives as partial JSON strings."""

    def __init__(self, provider: str, model: str) -> None:
        self.provider = provider
        self.model = model
        self.blocks: dict[int, dict[str, Any]] = {}
        self.input_tokens = 0
        self.output_tokens = 0
        self.stop_reason = ""
        self.id = None
        self.reported = False

    @property
    def usage(self) -> Usage:  # type: ignore[override]
        """`message_start` carries the input tokens, `message_delta` the output so far."""
        return Usage(self.input_tokens, self.output_tokens) if self.reported else UNREPORTED

    def feed(self, event: str, data: Any) -> list[StreamDelta]:
        if not isinstance(data, dict):
            raise FatalError(self.provider, f"unexpected stream event {event!r}: {str(data)[:120]}")
        kind = data.get("type", event)
        if kind == "message_stop":
            self.done = True
            return [StreamDelta(final=self.result())]
        text = self.add(kind, data)
        return [StreamDelta(text=text)] if text else []

    def end(self) -> list[StreamDelta]:
        raise TransientError(self.provider, "stream ended before message_stop (truncated)")

    def add(self, kind: str, data: dict[str, Any]) -> str:
        try:
            return self._add(kind, data)
        except (KeyError, TypeError, AttributeError) as exc:
            raise FatalError(self.provider, f"malformed {kind} event ({type(exc).__name__}: {exc})") from None

    def _add(self, kind: str, data: dict[str, Any]) -> str:
        if kind == "message_start":
            message = data["message"]
            self.id, self.model = message.get("id"), message.get("model") or self.model
            self.reported = bool(message.get("usage"))
            self.input_tokens = int((message.get("usage") or {}).get("input_tokens") or 0)
            self.output_tokens = int((message.get("usage") or {}).get("output_tokens") or 0)
        elif kind == "content_block_start":
            block = data["content_block"]
            self.blocks[data["index"]] = {"type": block["type"], "id": block.get("id"), "name": block.get("name"),
                                          "parts": [block.get("text") or ""]}
        elif kind == "content_block_delta":
            delta, block = data["delta"], self.blocks[data["index"]]
            piece = delta.get("text") if delta["type"] == "text_delta" else delta.get("partial_json")
            block["parts"].append(piece or "")
            return (piece or "") if delta["type"] == "text_delta" else ""
        elif kind == "message_delta":
            self.stop_reason = data["delta"].get("stop_reason") or self.stop_reason
            self.output_tokens = int((data.get("usage") or {}).get("output_tokens") or self.output_tokens)
        elif kind == "error":
            error = data.get("error") or {}
            cls = TransientError if error.get("type") in _RETRYABLE_STREAM_ERRORS else FatalError
            raise cls(self.provider, f"error in stream: {error.get('message', error)} ({error.get('type')})")
        return ""

    def result(self) -> LLMResponse:
        text = "".join("".join(b["parts"]) for _, b in sorted(self.blocks.items()) if b["type"] == "text")
        calls = tuple(ToolCall(b["id"], b["name"], parse_arguments(self.provider, b["name"], "".join(b["parts"])))
                      for _, b in sorted(self.blocks.items()) if b["type"] == "tool_use")
        return LLMResponse(content=text, tool_calls=calls, usage=Usage(self.input_tokens, self.output_tokens),
                           model=self.model, finish_reason=self.stop_reason, metadata={"id": self.id, "streamed": True})


def _usage(usage: dict[str, Any]) -> Usage:
    return Usage(int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0))
