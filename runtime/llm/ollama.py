"""Ollama: `POST {OLLAMA_HOST}/api/chat`, with `stream: false` or streamed NDJSON lines.

Tool calls come back as `message.tool_calls` with object arguments and no ids (ids are
assigned here); tool results go back as `tool` role messages with `tool_name`; token counts
are `prompt_eval_count` / `eval_count`.
"""

from __future__ import annotations

from typing import Any, Unpack
from urllib.parse import urlsplit

import httpx

from agentstage.runtime.errors import FatalError, TransientError
from agentstage.runtime.llm._http import HttpCall, HttpOptions, HttpProvider, parse_arguments
from agentstage.runtime.llm._sse import StreamParser
from agentstage.runtime.llm.types import (ChatMessage, LLMRequest, LLMResponse, StreamDelta, ToolCall, UNREPORTED,
                                         Usage, local_call_id)

__all__ = ["OllamaProvider", "host_url"]

DEFAULT_HOST = "http://127.0.0.1:11434"
DEFAULT_MODEL = "llama3.2"


def host_url(host: str) -> str:
    """`OLLAMA_HOST` as a base URL, read like Ollama's own clients: a bare `host[:port]` means http, port 11434."""
    if "://" in host:
        return host.rstrip("/")
    parsed = urlsplit(f"http://{host}")
    return f"http://{parsed.hostname}:{parsed.port or 11434}{parsed.path.rstrip('/')}"


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "content": message.content, "tool_name": message.name or ""}
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [{"function": {"name": c.name, "arguments": c.arguments}} for c in message.tool_calls]
    return out


class OllamaProvider(HttpProvider):
    """/api/chat adapter for a local or remote Ollama server."""

    name = "ollama"
    stream_format = "ndjson"

    def __init__(self, model: str = DEFAULT_MODEL, host: str = DEFAULT_HOST, client: httpx.Client | None = None,
                 **http: Unpack[HttpOptions]) -> None:
        super().__init__(client, **http)
        self.model = model or DEFAULT_MODEL
        self.host = host_url(host or DEFAULT_HOST)

    def model_listing(self) -> tuple[str, dict[str, str]]:
        """URL and headers of the GET that lists the server's pulled models (`models[].name`)."""
        return f"{self.host}/api/tags", {}

    @property
    def url(self) -> str:
        return f"{self.host}/api/chat"

    def body(self, request: LLMRequest, *, stream: bool) -> dict[str, Any]:
        messages = [{"role": "system", "content": request.system}] if request.system else []
        body: dict[str, Any] = {"model": request.model or self.model,
                                "messages": messages + [_message(m) for m in request.messages], "stream": stream}
        # NOTE: /api/chat has no tool choice: `none` sends no tools, the other choices are left to the model.
        if request.tools and request.tool_choice != "none":
            body["tools"] = [{"type": "function", "function": {"name": t.name, "description": t.description,
                                                               "parameters": t.parameters}} for t in request.tools]
        options: dict[str, Any] = {}
        if request.max_output_tokens is not None:
            options["num_predict"] = request.max_output_tokens
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if options:
            body["options"] = options
        return body

    def prepare(self, request: LLMRequest, *, stream: bool) -> HttpCall:
        return HttpCall(self.url, {}, self.body(request, stream=stream))

    def parse(self, request: LLMRequest, payload: dict[str, Any]) -> LLMResponse:
        state = _Assembler(self.name, self.model)
        state.add(payload)
        return state.result(streamed=False)

    def stream_parser(self, request: LLMRequest) -> StreamParser:
        return _Assembler(self.name, self.model)

    def usage_of(self, payload: Any) -> Usage:
        return _usage(payload) if isinstance(payload, dict) else UNREPORTED


class _Assembler(StreamParser):
    """Accumulates /api/chat chunks; the last one has `done: true` and the token counts."""

    def __init__(self, provider: str, model: str) -> None:
        self.provider = provider
        self.model = model
        self.text: list[str] = []
        self.calls: list[ToolCall] = []
        self.done = False
        self.finish_reason = ""
        self.usage = UNREPORTED

    def feed(self, event: str, data: Any) -> list[StreamDelta]:
        text = self.add(data)
        deltas = [StreamDelta(text=text)] if text else []
        return [*deltas, StreamDelta(final=self.result(streamed=True))] if self.done else deltas

    def end(self) -> list[StreamDelta]:
        raise TransientError(self.provider, "stream ended before done: true (truncated)")

    def add(self, chunk: Any) -> str:
        if not isinstance(chunk, dict):
            raise FatalError(self.provider, f"unexpected response: {str(chunk)[:160]}")
        if "error" in chunk:
            raise TransientError(self.provider, f"error in stream: {chunk['error']}")
        try:
            message = chunk.get("message") or {}
            for call in message.get("tool_calls") or ():
                function = call["function"]
                call_id = call.get("id") or local_call_id()
                self.calls.append(ToolCall(call_id, function["name"],
                                           parse_arguments(self.provider, function["name"], function.get("arguments"))))
        except (KeyError, TypeError, AttributeError) as exc:
            raise FatalError(self.provider, f"unexpected tool call shape ({exc}): {str(chunk)[:160]}") from None
        self.model = chunk.get("model") or self.model
        if chunk.get("done"):
            self.done = True
            self.finish_reason = chunk.get("done_reason") or "stop"
            self.usage = _usage(chunk)
        text = message.get("content") or ""
        if text:
            self.text.append(text)
        return text

    def result(self, *, streamed: bool) -> LLMResponse:
        if not self.done:
            raise FatalError(self.provider, "response is not done (expected done: true)")
        return LLMResponse(content="".join(self.text), tool_calls=tuple(self.calls), usage=self.usage,
                           model=self.model, finish_reason=self.finish_reason, metadata={"streamed": streamed})


def _usage(chunk: dict[str, Any]) -> Usage:
    """A done chunk's token counts; UNREPORTED when it has none."""
    if "eval_count" not in chunk and "prompt_eval_count" not in chunk:
        return UNREPORTED
    return Usage(int(chunk.get("prompt_eval_count") or 0), int(chunk.get("eval_count") or 0))
