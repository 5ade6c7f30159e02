"""Client overhead of the LLM adapters against the local wire-format server (loopback, no network).

- `*_call_overhead`: per non-streaming call, client wall time minus the server's own handling
  time (request build, httpx over a reused keep-alive connection, JSON parse, response mapping).
- `*_client_only`: the same call over `httpx.MockTransport` (no socket at all).
- `stream_token_overhead`: per streamed token, client time minus server time, for one SSE answer.
- `delta_delivery_latency`: from the adapter yielding a token to a `System.subscribe` consumer
  receiving its `llm.delta` event (agent actor -> observer actor -> subscriber queue), with the
  server sending a token every 5 ms as a model does (a burst instead measures GIL hand-offs).
- `concurrent_*`: requests per second with 500 and 2,000 requests in flight at once against a
  local aiohttp server (its own process) that answers after 200 ms: httpx's AsyncClient on its
  own transport (one cold round), the same on httpx-aiohttp's transport, a bare aiohttp client
  and `OpenAIProvider.agenerate` with its default client (pools warmed by one round, medians of
  interleaved rounds); failed requests counted, and each path's ratio to the bare aiohttp client
  (encode/httpx#3215 reports httpx's async pool as the bottleneck at this concurrency).
Prints `name: value unit` lines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from agentstage.runtime import Config, System  # noqa: E402
from agentstage.runtime.llm import (  # noqa: E402
    AnthropicProvider,
    ChatMessage,
    GeminiProvider,
    LLMRequest,
    OllamaProvider,
    OpenAIProvider,
    StreamDelta,
)
from agentstage.runtime.llm._clients import DEFAULT_LIMITS, default_async_client  # noqa: E402
from tests.runtime.llm.agent_loop import ADD  # noqa: E402
from tests.runtime.llm.wire_server import Reply, WireServer  # noqa: E402

REQUEST = LLMRequest((ChatMessage("user", "add 2 and 3"),), (ADD.spec,), system="be brief")
ANSWERS = {
    "openai": {"id": "c", "object": "chat.completion", "model": "m", "usage": {"prompt_tokens": 9, "completion_tokens": 3},
               "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "5"}}]},
    "anthropic": {"id": "m", "type": "message", "role": "assistant", "model": "m", "stop_reason": "end_turn",
                  "content": [{"type": "text", "text": "5"}], "usage": {"input_tokens": 9, "output_tokens": 3}},
    "gemini": {"candidates": [{"content": {"role": "model", "parts": [{"text": "5"}]}, "finishReason": "STOP"}],
               "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 3}},
    "ollama": {"model": "m", "message": {"role": "assistant", "content": "5"}, "done": True, "done_reason": "stop",
               "prompt_eval_count": 9, "eval_count": 3},
}


def adapters(base: str, client: httpx.Client) -> dict[str, object]:
    return {"openai": OpenAIProvider("sk-bench", "m", f"{base}/v1", client),
            "anthropic": AnthropicProvider("sk-bench", "m", base, client),
            "gemini": GeminiProvider("bench", "m", f"{base}/v1beta", client),
            "ollama": OllamaProvider("m", base, client)}


def bench_calls(calls: int) -> None:
    with WireServer() as server, httpx.Client(timeout=30) as client:
        for name, provider in adapters(server.base, client).items():
            server.add(*[Reply(json=ANSWERS[name]) for _ in range(calls + 20)])
            for _ in range(20):
                provider.generate(REQUEST)
            server.handled_s = 0.0
            started = time.perf_counter()
            for _ in range(calls):
                provider.generate(REQUEST)
            total = time.perf_counter() - started
            print(f"{name}_call_total: {total / calls * 1e3:.3f} ms/call (loopback, keep-alive)")
            print(f"{name}_call_overhead: {(total - server.handled_s) / calls * 1e3:.3f} ms/call "
                  f"(minus server time {server.handled_s / calls * 1e3:.3f} ms)")
        assert not server.violations, server.violations


def bench_client_only(calls: int) -> None:
    for name, answer in ANSWERS.items():
        transport = httpx.MockTransport(lambda request, answer=answer: httpx.Response(200, json=answer))
        with httpx.Client(transport=transport) as client:
            provider = adapters("http://bench.invalid", client)[name]
            for _ in range(50):
                provider.generate(REQUEST)
            started = time.perf_counter()
            for _ in range(calls):
                provider.generate(REQUEST)
            print(f"{name}_client_only: {(time.perf_counter() - started) / calls * 1e3:.3f} ms/call (MockTransport)")


def token_chunks(tokens: int) -> list[tuple[None, object]]:
    chunks: list[tuple[None, object]] = [
        (None, {"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}]})
        for i in range(tokens)]
    return [*chunks, (None, {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}), (None, "[DONE]")]


def bench_stream(tokens: int, rounds: int) -> None:
    with WireServer() as server, httpx.Client(timeout=30) as client:
        provider = OpenAIProvider("sk-bench", "m", f"{server.base}/v1", client)
        server.add(*[Reply(sse=token_chunks(tokens)) for _ in range(rounds + 1)])
        list(provider.stream(REQUEST))
        server.handled_s = 0.0
        started = time.perf_counter()
        for _ in range(rounds):
            assert sum(1 for d in provider.stream(REQUEST) if d.text) == tokens
        total = time.perf_counter() - started
        print(f"stream_token_total: {total / (tokens * rounds) * 1e6:.1f} us/token ({tokens} tokens x {rounds} streams)")
        print(f"stream_token_overhead: {(total - server.handled_s) / (tokens * rounds) * 1e6:.1f} us/token "
              "(minus server time)")


class _Timed(OpenAIProvider):
    """Records when each text delta leaves the adapter."""

    yielded: dict[int, float]

    def stream(self, request: LLMRequest) -> Iterator[StreamDelta]:
        for index, delta in enumerate(super().stream(request)):
            if delta.text:
                self.yielded[index] = time.perf_counter()
            yield delta


def bench_delta_delivery(tokens: int) -> None:
    with WireServer() as server, httpx.Client(timeout=30) as client, tempfile.TemporaryDirectory() as home:
        provider = _Timed("sk-bench", "m", f"{server.base}/v1", client)
        provider.yielded = {}
        server.add(Reply(sse=token_chunks(tokens), pace=0.005))
        config = Config.from_env({}, dotenv=None, home=home, stream=True, agent_pool_size=1)
        received: dict[int, float] = {}
        with System(config, providers={"default": provider}) as system:
            subscription = system.subscribe("bench-run", types={"llm.delta", "run.completed"})
            done = threading.Event()

            def consume() -> None:
                while (event := subscription.get(timeout=60)) is not None and event.type == "llm.delta":
                    received[event.data["index"]] = time.perf_counter()
                done.set()

            threading.Thread(target=consume, daemon=True).start()
            time.sleep(0.2)
            system.run("go", run_id="bench-run", timeout=60)
            done.wait(60)
            subscription.close()
        latencies = sorted((received[i] - provider.yielded[i]) * 1e3 for i in received)
        print(f"delta_delivery_latency_p50: {statistics.median(latencies):.3f} ms ({len(latencies)} tokens)")
        print(f"delta_delivery_latency_p99: {latencies[int(len(latencies) * 0.99) - 1]:.3f} ms")


SLOW_ANSWER_S = 0.2


def _serve_slow(ports: Any, delay: float) -> None:
    """The child process: an aiohttp server answering every chat completion after `delay` seconds."""
    from aiohttp import web

    body = json.dumps(ANSWERS["openai"]).encode()

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(delay)
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", answer)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    ports.put(sock.getsockname()[1])
    web.run_app(app, sock=sock, backlog=4096, print=None, handle_signals=False, access_log=None)


@contextmanager
def slow_server(delay: float) -> Iterator[str]:
    """Run `_serve_slow` in a process of its own (the client must not share its GIL); yields the base URL."""
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    process = context.Process(target=_serve_slow, args=(ports, delay), daemon=True)
    process.start()
    try:
        base = f"http://127.0.0.1:{ports.get(timeout=60)}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.join(10)


async def _rate(call: Callable[[], Awaitable[object]], concurrency: int, warm: bool = True) -> tuple[float, int]:
    """(successful requests per second, failed requests) of `concurrency` calls at once, after a warm-up round."""
    if warm:
        await asyncio.gather(*(call() for _ in range(concurrency)), return_exceptions=True)
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(call() for _ in range(concurrency)), return_exceptions=True)
    failed = sum(isinstance(outcome, Exception) for outcome in outcomes)
    return (concurrency - failed) / (time.perf_counter() - started), failed


async def _httpx_rate(client: httpx.AsyncClient, url: str, body: dict, concurrency: int,
                      warm: bool = True) -> tuple[float, int]:
    async def call() -> None:
        response = await client.post(url, json=body)
        response.raise_for_status()
        response.json()
    async with client:
        return await _rate(call, concurrency, warm)


async def _aiohttp_rate(url: str, body: dict, concurrency: int) -> tuple[float, int]:
    connector = aiohttp.TCPConnector(limit=DEFAULT_LIMITS.max_connections or 0)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def call() -> None:
            async with session.post(url, json=body) as response:
                response.raise_for_status()
                await response.json()
        return await _rate(call, concurrency)


async def _adapter_rate(base: str, concurrency: int) -> tuple[float, int]:
    provider = OpenAIProvider("sk-bench", "m", f"{base}/v1")
    try:
        return await _rate(lambda: provider.agenerate(REQUEST), concurrency)
    finally:
        await provider.aclose()


def bench_concurrency(levels: list[int], rounds: int) -> None:
    with slow_server(SLOW_ANSWER_S) as base:
        url = f"{base}/v1/chat/completions"
        body = OpenAIProvider("sk-bench", "m", f"{base}/v1").body(REQUEST, stream=False)
        timeout = httpx.Timeout(600.0, connect=5.0, pool=None)
        fast = {
            "httpx_aiohttp_transport": lambda level: _httpx_rate(default_async_client(), url, body, level),
            "bare_aiohttp": lambda level: _aiohttp_rate(url, body, level),
            "openai_agenerate": lambda level: _adapter_rate(base, level),
        }
        for level in levels:
            # NOTE: the machine is shared, so the fast clients take turns and report their median round;
            # httpx's own transport is an order of magnitude off and runs one cold round (a round takes minutes).
            samples: dict[str, list[tuple[float, int]]] = {name: [] for name in fast}
            for _ in range(rounds):
                for name, run in fast.items():
                    samples[name].append(asyncio.run(run(level)))
            rates = {name: (statistics.median(r for r, _ in runs), sum(f for _, f in runs))
                     for name, runs in samples.items()}
            rates["httpx_default_transport"] = asyncio.run(_httpx_rate(
                httpx.AsyncClient(timeout=timeout, limits=DEFAULT_LIMITS), url, body, level, warm=False))
            ceiling = min(level, DEFAULT_LIMITS.max_connections or level) / SLOW_ANSWER_S
            for name, (rate, failed) in rates.items():
                print(f"concurrent_{name}_{level}: {rate:.0f} req/s ({level} in flight, {ceiling:.0f} req/s ceiling)")
                print(f"concurrent_{name}_{level}_failed: {failed} requests")
            bare = rates["bare_aiohttp"][0]
            for name in ("httpx_default_transport", "httpx_aiohttp_transport", "openai_agenerate"):
                print(f"concurrent_{name}_vs_bare_aiohttp_{level}: {rates[name][0] / bare:.2f} ratio")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[500, 2000],
                        help="requests in flight at once for the concurrent_* figures")
    parser.add_argument("--concurrency-rounds", type=int, default=3,
                        help="rounds per fast client for the concurrent_* medians")
    args = parser.parse_args()
    bench_calls(args.calls)
    bench_client_only(args.calls)
    bench_stream(args.tokens, args.rounds)
    bench_delta_delivery(args.tokens)
    bench_concurrency(args.concurrency, args.concurrency_rounds)


if __name__ == "__main__":
    main()
