"""One contract over every vendor adapter: the same failures map to the same typed errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

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
from tests.runtime.llm.wire_rules import error_body
from tests.runtime.llm.wire_server import Reply, WireServer

ASK = LLMRequest((ChatMessage("user", "hello"),))


@dataclass(frozen=True)
class Vendor:
    name: str
    make: Callable[[str, httpx.Client], Provider]
    answer: dict[str, Any]
    stream_start: Reply
    """A stream reply that sends some text and then ends without its terminal event."""


def _openai_chunk(text: str) -> tuple[None, dict]:
    return None, {"id": "c", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


OPENAI_ANSWER = {"id": "c", "model": "m", "usage": {"prompt_tokens": 3, "completion_tokens": 1},
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}
VENDORS = [
    Vendor("openai", lambda base, c: OpenAIProvider("sk-test", "m", f"{base}/v1", c), OPENAI_ANSWER,
           Reply(sse=[_openai_chunk("h")])),
    Vendor("azure", lambda base, c: AzureOpenAIProvider("az", base, "dep", "2024-10-21", c), OPENAI_ANSWER,
           Reply(sse=[_openai_chunk("h")])),
    Vendor("anthropic", lambda base, c: AnthropicProvider("sk-ant", "m", base, c),
           {"id": "m", "type": "message", "role": "assistant", "model": "m", "stop_reason": "end_turn",
            "content": [{"type": "text", "text": "hi"}], "usage": {"input_tokens": 3, "output_tokens": 1}},
           Reply(sse=[("message_start", {"type": "message_start", "message": {"id": "m", "usage": {}}}),
                      ("content_block_start", {"type": "content_block_start", "index": 0,
                                               "content_block": {"type": "text", "text": ""}}),
                      ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "text_delta", "text": "h"}})])),
    Vendor("gemini", lambda base, c: GeminiProvider("key", "m", f"{base}/v1beta", c),
           {"candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1}},
           Reply(sse=[(None, {"candidates": [{"content": {"role": "model", "parts": [{"text": "h"}]}}]})])),
    Vendor("ollama", lambda base, c: OllamaProvider("m", base, c),
           {"model": "m", "message": {"role": "assistant", "content": "hi"}, "done": True,
            "prompt_eval_count": 3, "eval_count": 1},
           Reply(ndjson=[{"model": "m", "message": {"role": "assistant", "content": "h"}, "done": False}])),
]


@pytest.fixture(params=VENDORS, ids=lambda v: v.name)
def vendor(request: pytest.FixtureRequest) -> Vendor:
    return request.param


def test_answers_text_with_usage(vendor: Vendor, wire: WireServer, client: httpx.Client) -> None:
    wire.add(Reply(json=vendor.answer))
    response = vendor.make(wire.base, client).generate(ASK)
    assert response.content == "hi" and (response.usage.input_tokens, response.usage.output_tokens) == (3, 1)


@pytest.mark.parametrize("status, kind", [(401, FatalError), (400, FatalError), (429, RateLimited),
                                          (503, TransientError)])
def test_status_maps_to_the_same_typed_error(vendor: Vendor, wire: WireServer, client: httpx.Client, status: int,
                                             kind: type) -> None:
    wire.add(Reply(status, error_body(vendor.name, status, "the vendor's reason"), headers={"retry-after": "1"}))
    with pytest.raises(kind, match=f"^{vendor.name}: HTTP {status}: the vendor's reason") as caught:
        vendor.make(wire.base, client).generate(ASK)
    assert caught.value.provider == vendor.name and caught.value.status == status


def test_malformed_body_is_fatal(vendor: Vendor, wire: WireServer, client: httpx.Client) -> None:
    wire.add(Reply(raw=b"{truncated"))
    with pytest.raises(FatalError, match="malformed JSON"):
        vendor.make(wire.base, client).generate(ASK)


@pytest.mark.parametrize("cut", [False, True], ids=["unterminated", "connection-dropped"])
def test_a_stream_that_stops_early_is_transient_after_its_text(vendor: Vendor, wire: WireServer,
                                                                client: httpx.Client, cut: bool) -> None:
    wire.add(Reply(**{**vendor.stream_start.__dict__, "cut": cut}))
    texts = []
    with pytest.raises(TransientError):
        for delta in vendor.make(wire.base, client).stream(ASK):
            texts.append(delta.text)
    assert texts == ["h"]


def test_a_slow_server_is_a_transient_timeout(vendor: Vendor, wire: WireServer) -> None:
    wire.add(Reply(json=vendor.answer, delay=1.0))
    with httpx.Client(timeout=httpx.Timeout(0.2, connect=5.0)) as quick:
        with pytest.raises(TransientError, match="timed out"):
            vendor.make(wire.base, quick).generate(ASK)


def test_close_leaves_an_injected_client_open(vendor: Vendor, wire: WireServer, client: httpx.Client) -> None:
    vendor.make(wire.base, client).close()
    assert not client.is_closed
