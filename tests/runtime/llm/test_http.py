"""Shared HTTP plumbing of the adapters: retry hints, status mapping, vendor messages, redaction, call paths."""

from __future__ import annotations

import email.utils
import threading

import httpx
import pytest

from agentstage.runtime.aio import IOLoop
from agentstage.runtime.errors import FatalError, RateLimited, TransientError
from agentstage.runtime.llm._http import _decoded, error_for_status, parse_arguments, redact, retry_after_seconds
from agentstage.runtime.llm.ollama import OllamaProvider
from agentstage.runtime.llm.types import ChatMessage, LLMRequest

ASK = LLMRequest((ChatMessage("user", "hi"),))


def response(status: int, json: object = None, headers: dict | None = None, text: str | None = None) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text, headers=headers)
    return httpx.Response(status, json=json, headers=headers)


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert retry_after_seconds({"retry-after-ms": "1200", "retry-after": "9"}) == 1.2


def test_retry_after_accepts_an_http_date() -> None:
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now=1_000_000) == 30.0


def test_unparseable_retry_after_is_ignored() -> None:
    assert retry_after_seconds({"retry-after": "soon"}) is None and retry_after_seconds({}) is None


def test_x_should_retry_overrides_the_status() -> None:
    assert type(error_for_status("p", response(400, {}, {"x-should-retry": "true"}))) is TransientError
    assert type(error_for_status("p", response(429, {}, {"x-should-retry": "false"}))) is FatalError


def test_503_carries_its_retry_after_on_a_transient_error() -> None:
    error = error_for_status("p", response(503, {"error": "busy"}, {"retry-after": "4"}))
    assert isinstance(error, TransientError) and error.retry_after == 4.0 and error.status == 503


@pytest.mark.parametrize("body, expected", [
    ({"error": {"message": "Incorrect API key", "type": "invalid_request_error"}}, "Incorrect API key (invalid_request_error)"),
    ({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
     "invalid x-api-key (authentication_error)"),
    ({"error": {"code": 400, "message": "API key not valid", "status": "INVALID_ARGUMENT"}},
     "API key not valid (INVALID_ARGUMENT)"),
    ({"error": "model not found"}, "model not found"),
])
def test_vendor_error_shapes_give_the_vendor_message(body: dict, expected: str) -> None:
    error = error_for_status("vendor", response(401, body))
    assert isinstance(error, FatalError) and str(error) == f"vendor: HTTP 401: {expected}"


def test_a_non_json_error_body_is_quoted() -> None:
    assert "upstream connect error" in str(error_for_status("p", response(502, text="upstream connect error")))


def test_429_is_rate_limited() -> None:
    assert isinstance(error_for_status("p", response(429, {})), RateLimited)


def test_arguments_must_be_a_json_object() -> None:
    assert parse_arguments("p", "t", '{"a": 1}') == {"a": 1} and parse_arguments("p", "t", "") == {}
    with pytest.raises(TransientError, match="not a JSON object"):
        parse_arguments("p", "t", "[1, 2]")


def test_redact_hides_every_credential_header() -> None:
    headers = {"Authorization": "Bearer sk", "api-key": "a", "x-api-key": "b", "x-goog-api-key": "c", "accept": "json"}
    assert redact(headers) == {"Authorization": "***", "api-key": "***", "x-api-key": "***", "x-goog-api-key": "***",
                               "accept": "json"}


def test_a_key_the_vendor_echoes_is_scrubbed_from_the_error() -> None:
    body = {"error": {"message": "Incorrect API key provided: sk-live-123", "type": "invalid_request_error"}}
    error = error_for_status("openai", response(401, body), secrets=("sk-live-123",))
    assert "sk-live-123" not in str(error) and "Incorrect API key provided: ***" in str(error)


def test_a_body_that_cannot_be_decoded_is_fatal() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"\x00garbage",
                                                                   headers={"content-encoding": "gzip"}))
    with httpx.Client(transport=transport) as client:
        with pytest.raises(FatalError, match="DecodingError"):
            OllamaProvider("m", "http://ollama.invalid", client).generate(ASK)


def test_a_body_that_cannot_be_decoded_is_fatal_on_the_async_path_too(io: IOLoop) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"\x00garbage",
                                                                   headers={"content-encoding": "gzip"}))
    provider = OllamaProvider("m", "http://ollama.invalid", async_client=httpx.AsyncClient(transport=transport))
    with pytest.raises(FatalError, match="DecodingError"):
        io.run(provider.agenerate(ASK))


def test_a_json_answer_msgspec_refuses_is_read_as_before() -> None:
    assert _decoded(httpx.Response(200, content=b'{"n": 1e400}')) == {"n": float("inf")}
    assert _decoded(httpx.Response(200, content='{"text": "h\u00e9"}'.encode("utf-16"))) == {"text": "h\u00e9"}
    with pytest.raises(ValueError):
        _decoded(httpx.Response(200, content=b"{not json"))


def _answering_on(threads: list[str]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        threads.append(threading.current_thread().name)
        body = b'{"model": "m", "message": {"role": "assistant", "content": "hi"}, "done": true}\n'
        return httpx.Response(200, content=body)
    return httpx.MockTransport(answer)


def test_an_injected_sync_client_alone_runs_the_async_methods_on_the_executor(io: IOLoop) -> None:
    threads: list[str] = []
    with httpx.Client(transport=_answering_on(threads)) as client:
        provider = OllamaProvider("m", "http://ollama.invalid", client)
        assert io.run(provider.agenerate(ASK)).content == "hi"
        assert io.run(_collect(provider)) == ["hi", None]
    assert len(threads) == 2 and all(name.startswith("test-io-blocking") for name in threads)


def test_an_injected_async_client_serves_the_async_methods_on_the_loop(io: IOLoop) -> None:
    threads: list[str] = []
    with httpx.Client() as unused:
        provider = OllamaProvider("m", "http://ollama.invalid", unused,
                                  async_client=httpx.AsyncClient(transport=_answering_on(threads)))
        assert io.run(provider.agenerate(ASK)).content == "hi"
        assert io.run(_collect(provider)) == ["hi", None]
    assert threads == ["test-io", "test-io"]


async def _collect(provider: OllamaProvider) -> list[str | None]:
    return [delta.text or None async for delta in provider.astream(ASK)]


def test_each_post_is_one_debug_line_with_its_url_and_the_key_redacted(wire, io: IOLoop) -> None:
    from loguru import logger

    from agentstage.runtime.llm import OpenAIProvider
    from tests.runtime.llm.wire_server import Reply

    answer = {"id": "c", "model": "m", "usage": {"prompt_tokens": 1, "completion_tokens": 1},
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}
    piece = {"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"},
                                     "finish_reason": "stop"}]}
    wire.add(Reply(json=answer), Reply(json=answer), Reply(sse=[(None, piece), (None, "[DONE]")]))
    provider = OpenAIProvider("sk-secret-key", "m", f"{wire.base}/v1")
    lines: list[str] = []
    logger.enable("agentstage")
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="DEBUG",
                      filter=lambda record: "POST" in record["message"])
    try:
        provider.generate(ASK)
        io.run(provider.agenerate(ASK), timeout=30)
        list(provider.stream(ASK))
    finally:
        logger.remove(sink)
        logger.disable("agentstage.runtime")
        provider.close()
    url = f"{wire.base}/v1/chat/completions"
    assert [line.split(" headers=")[0] for line in lines] == [f"openai POST {url}", f"openai POST {url}",
                                                             f"openai POST {url} (stream)"]
    assert all("sk-secret-key" not in line and "'Authorization': '***'" in line for line in lines)
