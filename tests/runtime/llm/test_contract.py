"""One contract over every vendor adapter and both call paths: the same failures map to the same typed errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from agentstage.runtime.aio import IOLoop
from agentstage.runtime.errors import FatalError, RateLimited, TransientError
from agentstage.runtime.llm import (
    AnthropicProvider,
    AzureOpenAIProvider,
    ChatMessage,
    GeminiProvider,
    LLMRequest,
    OllamaProvider,
    OpenAIProvider,
    Provider,
)
from tests.runtime.llm.paths import Http
from tests.runtime.llm.wire_rules import error_body
from tests.runtime.llm.wire_server import Reply, WireServer

ASK = LLMRequest((ChatMessage("user", "hello"),))


@dataclass(frozen=True)
class Vendor:
    name: str
    make: Callable[..., Provider]
    """(base URL, **client arguments) -> the adapter."""
    answer: dict[str, Any]
    stream_start: Reply
    """A stream reply that sends some text and then ends without its terminal event."""
    stream_whole: Reply
    """A stream reply that sends "h", "i" and its terminal event."""


def _openai_chunk(text: str, finish: str | None = None) -> tuple[None, dict]:
    return None, {"id": "c", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


def _anthropic(kind: str, **fields: Any) -> tuple[str, dict]:
    return kind, {"type": kind, **fields}


def _anthropic_text(text: str) -> tuple[str, dict]:
    return _anthropic("content_block_delta", index=0, delta={"type": "text_delta", "text": text})


def _gemini_chunk(text: str, finish: str | None = None) -> tuple[None, dict]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    return None, {"candidates": [candidate | ({"finishReason": finish} if finish else {})]}


def _ollama_line(text: str, done: bool = False) -> dict:
    return {"model": "m", "message": {"role": "assistant", "content": text}, "done": done}


OPENAI_STREAM = Reply(sse=[_openai_chunk("h"), _openai_chunk("i", "stop"), (None, "[DONE]")])
ANTHROPIC_START = [_anthropic("message_start", message={"id": "m", "usage": {}}),
                   _anthropic("content_block_start", index=0, content_block={"type": "text", "text": ""})]


OPENAI_ANSWER = {"id": "c", "model": "m", "usage": {"prompt_tokens": 3, "completion_tokens": 1},
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}
VENDORS = [
    Vendor("openai", lambda base, **c: OpenAIProvider("sk-test", "m", f"{base}/v1", **c), OPENAI_ANSWER,
           Reply(sse=[_openai_chunk("h")]), OPENAI_STREAM),
    Vendor("azure", lambda base, **c: AzureOpenAIProvider("az-key", base, "dep", "2024-10-21", **c), OPENAI_ANSWER,
           Reply(sse=[_openai_chunk("h")]), OPENAI_STREAM),
    Vendor("anthropic", lambda base, **c: AnthropicProvider("sk-ant", "m", base, **c),
           {"id": "m", "type": "message", "role": "assistant", "model": "m", "stop_reason": "end_turn",
            "content": [{"type": "text", "text": "hi"}], "usage": {"input_tokens": 3, "output_tokens": 1}},
           Reply(sse=[*ANTHROPIC_START, _anthropic_text("h")]),
           Reply(sse=[*ANTHROPIC_START, _anthropic_text("h"), _anthropic_text("i"),
                      _anthropic("content_block_stop", index=0),
                      _anthropic("message_delta", delta={"stop_reason": "end_turn"}, usage={"output_tokens": 1}),
                      _anthropic("message_stop")])),
    Vendor("gemini", lambda base, **c: GeminiProvider("AIza-key", "m", f"{base}/v1beta", **c),
           {"candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1}},
           Reply(sse=[_gemini_chunk("h")]), Reply(sse=[_gemini_chunk("h"), _gemini_chunk("i", "STOP")])),
    Vendor("ollama", lambda base, **c: OllamaProvider("m", base, **c),
           {"model": "m", "message": {"role": "assistant", "content": "hi"}, "done": True,
            "prompt_eval_count": 3, "eval_count": 1},
           Reply(ndjson=[_ollama_line("h")]),
           Reply(ndjson=[_ollama_line("h"), _ollama_line("i"), _ollama_line("", done=True)])),
]


@pytest.fixture(params=VENDORS, ids=lambda v: v.name)
def vendor(request: pytest.FixtureRequest) -> Vendor:
    return request.param


def adapter(vendor: Vendor, base: str, http: Http) -> Provider:
    return http(vendor.make(base, **http.clients))


def test_answers_text_with_usage(vendor: Vendor, wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=vendor.answer))
    response = adapter(vendor, wire.base, http).generate(ASK)
    assert response.content == "hi" and (response.usage.input_tokens, response.usage.output_tokens) == (3, 1)


def test_streams_text_then_the_final_response(vendor: Vendor, wire: WireServer, http: Http) -> None:
    wire.add(vendor.stream_whole)
    deltas = list(adapter(vendor, wire.base, http).stream(ASK))
    assert [d.text for d in deltas[:-1]] == ["h", "i"] and deltas[-1].final is not None
    assert deltas[-1].final.content == "hi" and wire.requests[0].body.get("stream", True) is True


def test_a_stream_without_usage_records_unknown_usage_not_zero(vendor: Vendor, wire: WireServer, http: Http) -> None:
    wire.add(vendor.stream_whole)
    final = list(adapter(vendor, wire.base, http).stream(ASK))[-1].final
    assert final is not None
    if vendor.name == "anthropic":
        assert final.usage.reported, "Anthropic streams always carry usage (message_start, message_delta)"
        return
    assert not final.usage.reported and final.usage.call_view() == {"input_tokens": None, "output_tokens": None}


def test_an_answer_without_usage_records_unknown_usage(vendor: Vendor, wire: WireServer, http: Http) -> None:
    body = {k: v for k, v in vendor.answer.items()
            if k not in ("usage", "usageMetadata", "prompt_eval_count", "eval_count")}
    wire.add(Reply(json=body))
    response = adapter(vendor, wire.base, http).generate(ASK)
    assert response.content == "hi" and response.usage.unreported == 1


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
@pytest.mark.parametrize("status, kind", [(401, FatalError), (400, FatalError), (429, RateLimited),
                                          (503, TransientError)])
def test_status_maps_to_the_same_typed_error(vendor: Vendor, wire: WireServer, http: Http, status: int,
                                             kind: type, stream: bool) -> None:
    wire.add(Reply(status, error_body(vendor.name, status, "the vendor's reason"), headers={"retry-after": "1"}))
    provider = adapter(vendor, wire.base, http)
    with pytest.raises(kind, match=f"^{vendor.name}: HTTP {status}: the vendor's reason") as caught:
        list(provider.stream(ASK)) if stream else provider.generate(ASK)
    assert caught.value.provider == vendor.name and caught.value.status == status
    assert getattr(caught.value, "retry_after", None) == (1.0 if kind is not FatalError else None)


@pytest.mark.parametrize("header, kind", [("false", FatalError), ("true", TransientError)])
def test_x_should_retry_overrides_the_status(vendor: Vendor, wire: WireServer, http: Http, header: str,
                                             kind: type) -> None:
    status = 503 if header == "false" else 400
    wire.add(Reply(status, error_body(vendor.name, status, "no"), headers={"x-should-retry": header}))
    with pytest.raises(kind) as caught:
        adapter(vendor, wire.base, http).generate(ASK)
    assert type(caught.value) is kind


@pytest.mark.parametrize("vendor", [v for v in VENDORS if v.name != "ollama"], ids=lambda v: v.name)
def test_a_key_echoed_in_an_error_is_scrubbed(vendor: Vendor, wire: WireServer, http: Http) -> None:
    provider = adapter(vendor, wire.base, http)
    (secret,) = provider.secrets
    wire.add(Reply(401, error_body(vendor.name, 401, f"invalid key: {secret}")))
    with pytest.raises(FatalError) as caught:
        provider.generate(ASK)
    assert "invalid key: ***" in str(caught.value) and secret not in str(caught.value)


def test_malformed_body_is_fatal(vendor: Vendor, wire: WireServer, http: Http) -> None:
    wire.add(Reply(raw=b"{truncated"))
    with pytest.raises(FatalError, match="malformed JSON"):
        adapter(vendor, wire.base, http).generate(ASK)


@pytest.mark.parametrize("cut", [False, True], ids=["unterminated", "connection-dropped"])
def test_a_stream_that_stops_early_is_transient_after_its_text(vendor: Vendor, wire: WireServer, http: Http,
                                                                cut: bool) -> None:
    wire.add(Reply(**{**vendor.stream_start.__dict__, "cut": cut}))
    texts = []
    with pytest.raises(TransientError):
        for delta in adapter(vendor, wire.base, http).stream(ASK):
            texts.append(delta.text)
    assert texts == ["h"]


def test_a_slow_server_is_a_transient_timeout(vendor: Vendor, wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=vendor.answer, delay=1.0))
    with pytest.raises(TransientError, match="timed out"):
        http(vendor.make(wire.base, timeout=0.2)).generate(ASK)


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
def test_a_refused_connection_is_a_transient_connection_error(vendor: Vendor, http: Http, stream: bool) -> None:
    with WireServer() as gone:
        base = gone.base
    provider = adapter(vendor, base, http)
    with pytest.raises(TransientError, match="connection error"):
        list(provider.stream(ASK)) if stream else provider.generate(ASK)


def test_close_leaves_an_injected_client_open(vendor: Vendor, wire: WireServer, client: httpx.Client) -> None:
    vendor.make(wire.base, client=client).close()
    assert not client.is_closed


def test_aclose_leaves_an_injected_async_client_open(vendor: Vendor, wire: WireServer, io: IOLoop) -> None:
    injected = httpx.AsyncClient()
    io.run(vendor.make(wire.base, async_client=injected).aclose())
    assert not injected.is_closed
    io.run(injected.aclose())


def test_aclose_closes_the_owned_async_client(vendor: Vendor, wire: WireServer, io: IOLoop) -> None:
    wire.add(Reply(json=vendor.answer))
    provider = vendor.make(wire.base)
    assert io.run(provider.agenerate(ASK)).content == "hi"
    owned = io.run(_client_of(provider))
    io.run(provider.aclose())
    assert owned.is_closed


async def _client_of(provider: Provider) -> httpx.AsyncClient:
    return provider._aclient()  # type: ignore[attr-defined]


def test_a_stream_with_an_empty_body_is_answered_by_one_plain_call(vendor: Vendor, wire: WireServer,
                                                                   http: Http) -> None:
    empty = Reply(ndjson=[]) if vendor.name == "ollama" else Reply(sse=[])
    wire.add(empty, Reply(json=vendor.answer))
    deltas = list(adapter(vendor, wire.base, http).stream(ASK))
    assert [d.text for d in deltas[:-1]] == ["hi"] and deltas[-1].final is not None
    assert deltas[-1].final.metadata["stream_fallback"] == "empty stream body"
    streamed = [seen.body.get("stream") is True or seen.path.endswith(":streamGenerateContent") for seen in wire.requests]
    assert streamed == [True, False]


def test_a_multi_line_validation_error_keeps_its_causes_on_one_bounded_line(vendor: Vendor, wire: WireServer,
                                                                            http: Http) -> None:
    causes = "\n".join(f"  messages.{i}.content: Input should be a valid string" for i in range(7))
    wire.add(Reply(500, error_body(vendor.name, 500, f"7 validation errors:\n{causes}")),
             Reply(500, error_body(vendor.name, 500, "x" * 5000)))
    provider = adapter(vendor, wire.base, http)
    with pytest.raises(TransientError) as caught:
        provider.generate(ASK)
    message = str(caught.value)
    assert "\n" not in message and "7 validation errors: messages.0.content" in message
    assert "messages.6.content: Input should be a valid string" in message
    with pytest.raises(TransientError) as long:
        provider.generate(ASK)
    assert len(str(long.value)) < 2100


def test_fastapi_detail_lists_name_the_fields(wire: WireServer, http: Http) -> None:
    wire.add(Reply(422, {"detail": [{"loc": ["body", "messages", 1, "content"], "msg": "Input should be a valid string",
                                     "type": "string_type"}]}))
    with pytest.raises(FatalError, match="HTTP 422: body.messages.1.content: Input should be a valid string"):
        adapter(VENDORS[0], wire.base, http).generate(ASK)


BAD_ARGS = "{\"a\": 1,"
"""Tool-call arguments that are not JSON: a 200 that cannot be used, so a retryable error."""
SPENT = {
    "openai": (Reply(sse=[_openai_chunk("h"), (None, {"id": "c", "choices": [],
                                                      "usage": {"prompt_tokens": 3, "completion_tokens": 1}})]),
               {**OPENAI_ANSWER, "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                   "role": "assistant", "content": None, "tool_calls": [
                       {"id": "t", "type": "function", "function": {"name": "add", "arguments": BAD_ARGS}}]}}]}),
    "anthropic": (Reply(sse=[_anthropic("message_start", message={"id": "m", "usage": {"input_tokens": 3,
                                                                                       "output_tokens": 1}}),
                             ANTHROPIC_START[1], _anthropic_text("h")]),
                  {"id": "m", "type": "message", "role": "assistant", "model": "m", "stop_reason": "tool_use",
                   "content": [{"type": "tool_use", "id": "t", "name": "add", "input": BAD_ARGS}],
                   "usage": {"input_tokens": 3, "output_tokens": 1}}),
    "gemini": (Reply(sse=[(None, {**_gemini_chunk("h")[1], "usageMetadata": {"promptTokenCount": 3,
                                                                             "candidatesTokenCount": 1}})]),
               {"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "add",
                                                                                         "args": BAD_ARGS}}]},
                                "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1}}),
    "ollama": (Reply(ndjson=[{**_ollama_line("", done=True), "prompt_eval_count": 3, "eval_count": 1,
                              "message": {"role": "assistant", "content": "", "tool_calls": [
                                  {"function": {"name": "add", "arguments": BAD_ARGS}}]}}]),
               {"model": "m", "done": True, "prompt_eval_count": 3, "eval_count": 1, "message": {
                   "role": "assistant", "content": "", "tool_calls": [{"function": {"name": "add",
                                                                                    "arguments": BAD_ARGS}}]}}),
}
SPENT["azure"] = SPENT["openai"]


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
def test_a_failed_call_carries_the_usage_its_server_reported(vendor: Vendor, wire: WireServer, http: Http,
                                                            stream: bool) -> None:
    cut_stream, bad_body = SPENT[vendor.name]
    wire.add(cut_stream if stream else Reply(json=bad_body))
    provider = adapter(vendor, wire.base, http)
    with pytest.raises(TransientError) as caught:
        list(provider.stream(ASK)) if stream else provider.generate(ASK)
    usage = caught.value.usage
    assert usage is not None and (usage.input_tokens, usage.output_tokens, usage.unreported) == (3, 1, 0)


def test_a_failed_call_without_reported_usage_carries_none(vendor: Vendor, wire: WireServer, http: Http) -> None:
    wire.add(vendor.stream_start, Reply(503, error_body(vendor.name, 503, "busy")))
    provider = adapter(vendor, wire.base, http)
    for _ in range(2):
        with pytest.raises(TransientError) as caught:
            list(provider.stream(ASK))
        assert caught.value.usage is None
