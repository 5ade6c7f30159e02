"""Tokens of failed attempts count: a model call retried (or failed) after its server reported usage."""

from __future__ import annotations

import json

import httpx

from agentstage.runtime import Config, System
from agentstage.runtime.llm.openai import OpenAIProvider
from agentstage.runtime.tools.registry import ToolRegistry
from tests.runtime.llm.agent_loop import ADD
from tests.runtime.llm.wire_server import Reply, WireServer

USAGE = {"prompt_tokens": 11, "completion_tokens": 4}


def chunk(delta: dict, finish: str | None = None) -> tuple[None, dict]:
    return None, {"id": "c", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def usage_chunk(prompt: int, completion: int) -> tuple[None, dict]:
    return None, {"id": "c", "model": "m", "choices": [], "usage": {"prompt_tokens": prompt,
                                                                     "completion_tokens": completion}}


def completion(message: dict, usage: dict | None = USAGE) -> dict:
    body = {"id": "c", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", **message},
                                                  "finish_reason": "stop"}]}
    return {**body, "usage": usage} if usage else body


def run(config: Config, wire: WireServer, client: httpx.Client, *, stream: bool = False):
    quick = config.replace(retry_initial_backoff=0.01, tools="add", max_iterations=3, stream=stream)
    provider = OpenAIProvider("sk-test", "m", f"{wire.base}/v1", client=client)
    with System(quick, tools=ToolRegistry([ADD]), providers={"default": provider}) as system:
        result = system.run("add 2 and 3", timeout=60)
        return result, system.events(result.run_id), system.get_run(result.run_id)


def tokens(row) -> tuple[int, int]:
    return row.input_tokens, row.output_tokens


def test_a_stream_cut_after_its_usage_chunk_counts_those_tokens(wire: WireServer, client: httpx.Client,
                                                                config: Config) -> None:
    wire.add(Reply(sse=[chunk({"content": "The sum"}), usage_chunk(11, 4)], cut=True),
             Reply(sse=[chunk({"content": "The sum is 5."}, "stop"), usage_chunk(12, 6), (None, "[DONE]")]))
    result, events, row = run(config, wire, client, stream=True)
    assert result.status == "completed" and result.output == "The sum is 5."
    retry = next(e for e in events if e.type == "llm.retry")
    assert retry.data["usage"] == {"input_tokens": 11, "output_tokens": 4}
    assert (result.usage.input_tokens, result.usage.output_tokens) == (23, 10) and result.usage.reported
    assert tokens(row) == (23, 10)


def test_a_200_whose_tool_arguments_do_not_parse_counts_its_usage(wire: WireServer, client: httpx.Client,
                                                                  config: Config) -> None:
    broken = {"id": "t1", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b"'}}
    wire.add(Reply(json=completion({"content": None, "tool_calls": [broken]})),
             Reply(json=completion({"content": "5"}, {"prompt_tokens": 12, "completion_tokens": 1})))
    result, events, row = run(config, wire, client)
    assert result.status == "completed" and result.output == "5"
    assert next(e for e in events if e.type == "llm.retry").data["usage"] == {"input_tokens": 11,
                                                                                     "output_tokens": 4}
    assert (result.usage.input_tokens, result.usage.output_tokens) == (23, 5) and tokens(row) == (23, 5)


def test_a_failed_call_that_reported_usage_counts_it_on_the_failed_run(wire: WireServer, client: httpx.Client,
                                                                       config: Config) -> None:
    wire.add(Reply(json={"id": "c", "model": "m", "choices": [], "usage": USAGE}))
    result, events, row = run(config, wire, client)
    assert result.status == "failed" and "unexpected response shape" in (result.error or "")
    assert next(e for e in events if e.type == "llm.error").data["usage"] == {"input_tokens": 11,
                                                                                     "output_tokens": 4}
    assert (result.usage.input_tokens, result.usage.output_tokens) == (11, 4) and tokens(row) == (11, 4)


def test_a_retry_whose_server_reported_nothing_adds_no_tokens(wire: WireServer, client: httpx.Client,
                                                              config: Config) -> None:
    wire.add(Reply(503, {"error": {"message": "busy"}}), Reply(json=completion({"content": "5"})))
    result, events, row = run(config, wire, client)
    assert result.status == "completed" and "usage" not in next(e for e in events if e.type == "llm.retry").data
    assert (result.usage.input_tokens, result.usage.output_tokens, result.usage.unreported) == (11, 4, 0)
    assert tokens(row) == (11, 4) and json.loads(json.dumps(result.usage.run_view()))["total_tokens"] == 15
