"""The adapters' async clients: aiohttp's transport, one per loop, and no pool timeout under load."""

from __future__ import annotations

import asyncio
import gzip
import json

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport

from agentstage.runtime.aio import IOLoop
from agentstage.runtime.errors import FatalError
from agentstage.runtime.llm import ChatMessage, LLMRequest, OpenAIProvider
from agentstage.runtime.llm._clients import AsyncClients, default_async_client, default_client
from tests.runtime.llm.wire_server import Reply, WireServer

ASK = LLMRequest((ChatMessage("user", "hello"),))
ANSWER = {"id": "c", "model": "m", "usage": {"prompt_tokens": 3, "completion_tokens": 1},
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}


async def _gather(provider: OpenAIProvider, count: int) -> list[str]:
    responses = await asyncio.gather(*(provider.agenerate(ASK) for _ in range(count)))
    return [r.content for r in responses]


def test_clients_have_the_sdk_timeouts_and_no_pool_timeout() -> None:
    for client in (default_client(), default_async_client()):
        assert (client.timeout.read, client.timeout.connect, client.timeout.pool) == (600.0, 5.0, None)
    assert isinstance(default_async_client()._transport, AiohttpTransport)


def test_300_concurrent_calls_all_complete_and_reach_the_server_together(wire: WireServer, io: IOLoop) -> None:
    wire.add(*[Reply(json=ANSWER, delay=0.5) for _ in range(300)])
    provider = OpenAIProvider("sk-test", "m", f"{wire.base}/v1")
    try:
        assert io.run(_gather(provider, 300), timeout=120) == ["hi"] * 300
    finally:
        io.run(provider.aclose())
    assert len(wire.requests) == 300 and wire.max_in_flight > 100


def test_calls_queued_for_a_connection_wait_for_one_instead_of_failing(wire: WireServer, io: IOLoop) -> None:
    # NOTE: 300 calls over 25 connections at 0.5 s each keep the last ones queued for about 6 s.
    wire.add(*[Reply(json=ANSWER, delay=0.5) for _ in range(300)])
    provider = OpenAIProvider("sk-test", "m", f"{wire.base}/v1", limits=httpx.Limits(max_connections=25))
    try:
        assert io.run(_gather(provider, 300), timeout=120) == ["hi"] * 300
    finally:
        io.run(provider.aclose())
    assert wire.max_in_flight <= 25


def test_each_event_loop_gets_its_own_client(wire: WireServer) -> None:
    wire.add(Reply(json=ANSWER), Reply(json=ANSWER))
    provider = OpenAIProvider("sk-test", "m", f"{wire.base}/v1")

    async def call() -> tuple[str, httpx.AsyncClient]:
        try:
            return (await provider.agenerate(ASK)).content, provider._aclient()
        finally:
            await provider.aclose()

    first, second = asyncio.run(call()), asyncio.run(call())
    assert first[0] == second[0] == "hi" and first[1] is not second[1] and first[1].is_closed


def test_clients_of_closed_loops_are_forgotten() -> None:
    clients = AsyncClients(1.0, 1.0, httpx.Limits())

    async def get() -> httpx.AsyncClient:
        return clients.get()

    asyncio.run(get())
    asyncio.run(get())
    assert len(clients._clients) == 1


def _one_call(wire: WireServer, io: IOLoop, reply: Reply) -> str:
    wire.add(reply)
    provider = OpenAIProvider("sk-test", "m", f"{wire.base}/v1")
    try:
        return io.run(provider.agenerate(ASK), timeout=30).content
    finally:
        io.run(provider.aclose())


def test_the_direct_post_sends_the_clients_headers_the_calls_and_the_json_type(wire: WireServer, io: IOLoop) -> None:
    assert _one_call(wire, io, Reply(json=ANSWER)) == "hi"
    headers = wire.requests[0].headers
    assert headers["authorization"] == "Bearer sk-test" and headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("python-httpx/") and "gzip" in headers["accept-encoding"]
    assert wire.requests[0].body["messages"] == [{"role": "user", "content": "hello"}]


def test_a_compressed_answer_on_the_direct_post_is_decoded(wire: WireServer, io: IOLoop) -> None:
    packed = gzip.compress(json.dumps(ANSWER).encode())
    assert _one_call(wire, io, Reply(raw=packed, headers={"Content-Encoding": "gzip"})) == "hi"


def test_an_answer_that_does_not_decompress_is_fatal_on_the_direct_post(wire: WireServer, io: IOLoop) -> None:
    with pytest.raises(FatalError, match="DecodingError"):
        _one_call(wire, io, Reply(raw=b"\x00garbage", headers={"Content-Encoding": "gzip"}))
