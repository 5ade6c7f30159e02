"""Anthropic Messages adapter against the local wire server, through real httpx."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from agentstage.runtime.errors import FatalError, RateLimited, TransientError
from agentstage.runtime.llm.anthropic import API_VERSION, AnthropicProvider
from agentstage.runtime.llm.types import ChatMessage, LLMRequest, ToolCall
from tests.runtime.llm.agent_loop import ADD, run_loop
from tests.runtime.llm.paths import Http
from tests.runtime.llm.wire_server import Reply, WireServer

ASK = LLMRequest((ChatMessage("user", "add 2 and 3"),), (ADD.spec,), system="be brief")


def message(*blocks: dict, stop: str = "end_turn") -> dict:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
            "content": list(blocks), "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": 12, "output_tokens": 6}}


def text(value: str) -> dict:
    return {"type": "text", "text": value}


def tool_use(id: str, input: dict) -> dict:
    return {"type": "tool_use", "id": id, "name": "add", "input": input}


def event(kind: str, **fields: object) -> tuple[str, dict]:
    return kind, {"type": kind, **fields}


def start(input_tokens: int = 10) -> tuple[str, dict]:
    return event("message_start", message={"id": "msg_2", "type": "message", "role": "assistant", "content": [],
                                           "model": "claude-sonnet-4-5", "stop_reason": None,
                                           "usage": {"input_tokens": input_tokens, "output_tokens": 1}})


def end(stop: str, output_tokens: int) -> list[tuple[str, dict]]:
    return [event("message_delta", delta={"stop_reason": stop, "stop_sequence": None},
                  usage={"output_tokens": output_tokens}), event("message_stop")]


def provider(wire: WireServer, http: Http) -> AnthropicProvider:
    return http(AnthropicProvider("sk-ant-test", "claude-sonnet-4-5", wire.base, **http.clients))


def test_generate_sends_system_apart_and_reads_text_and_usage(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=message(text("5"))))
    response = provider(wire, http).generate(ASK)
    assert (response.content, response.finish_reason, response.usage.input_tokens) == ("5", "end_turn", 12)
    seen = wire.requests[0]
    assert seen.headers["x-api-key"] == "sk-ant-test" and seen.headers["anthropic-version"] == API_VERSION
    assert seen.body["system"] == "be brief" and seen.body["messages"] == [{"role": "user", "content": "add 2 and 3"}]
    assert seen.body["tools"] == [{"name": "add", "description": ADD.description, "input_schema": ADD.parameters}]
    assert seen.body["max_tokens"] > 0


def test_several_tool_use_blocks_become_tool_calls(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=message(text("Adding."), tool_use("tu1", {"a": 1, "b": 2}), tool_use("tu2", {"a": 3, "b": 4}),
                                stop="tool_use")))
    response = provider(wire, http).generate(ASK)
    assert response.content == "Adding." and response.finish_reason == "tool_use"
    assert response.tool_calls == (ToolCall("tu1", "add", {"a": 1, "b": 2}), ToolCall("tu2", "add", {"a": 3, "b": 4}))


def test_tool_results_share_one_user_turn(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=message(text("3 and 7"))))
    calls = (ToolCall("tu1", "add", {"a": 1, "b": 2}), ToolCall("tu2", "add", {"a": 3, "b": 4}))
    request = LLMRequest((ChatMessage("user", "sums?"), ChatMessage("assistant", "", calls),
                          ChatMessage("tool", '{"sum": 3}', tool_call_id="tu1", name="add"),
                          ChatMessage("tool", '{"sum": 7}', tool_call_id="tu2", name="add")), (ADD.spec,))
    provider(wire, http).generate(request)
    messages = wire.requests[0].body["messages"]
    assert messages[1] == {"role": "assistant", "content": [tool_use("tu1", {"a": 1, "b": 2}),
                                                            tool_use("tu2", {"a": 3, "b": 4})]}
    assert messages[2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "tu1", "content": '{"sum": 3}'},
        {"type": "tool_result", "tool_use_id": "tu2", "content": '{"sum": 7}'}]}


def test_stream_yields_text_and_assembles_partial_json_tool_input(wire: WireServer, http: Http) -> None:
    wire.add(Reply(sse=[
        start(), event("content_block_start", index=0, content_block={"type": "text", "text": ""}),
        event("ping"),
        event("content_block_delta", index=0, delta={"type": "text_delta", "text": "Let me "}),
        event("content_block_delta", index=0, delta={"type": "text_delta", "text": "add."}),
        event("content_block_stop", index=0),
        event("content_block_start", index=1, content_block={"type": "tool_use", "id": "tu1", "name": "add", "input": {}}),
        event("content_block_delta", index=1, delta={"type": "input_json_delta", "partial_json": '{"a": 1'}),
        event("content_block_delta", index=1, delta={"type": "input_json_delta", "partial_json": ', "b": 2}'}),
        event("content_block_stop", index=1), *end("tool_use", 30),
    ]))
    deltas = list(provider(wire, http).stream(ASK))
    assert [d.text for d in deltas if d.text] == ["Let me ", "add."]
    final = deltas[-1].final
    assert final.content == "Let me add." and final.tool_calls == (ToolCall("tu1", "add", {"a": 1, "b": 2}),)
    assert (final.usage.input_tokens, final.usage.output_tokens, final.finish_reason) == (10, 30, "tool_use")


def test_429_with_retry_after_is_rate_limited(wire: WireServer, http: Http) -> None:
    wire.add(Reply(429, {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
                   headers={"retry-after": "3"}))
    with pytest.raises(RateLimited) as caught:
        provider(wire, http).generate(ASK)
    assert caught.value.retry_after == 3.0 and "slow down" in str(caught.value)


@pytest.mark.parametrize("status, kind", [(529, TransientError), (500, TransientError), (401, FatalError),
                                          (400, FatalError)])
def test_error_statuses_carry_the_vendor_message(wire: WireServer, http: Http, status: int,
                                                 kind: type) -> None:
    wire.add(Reply(status, {"type": "error", "error": {"type": "some_error", "message": f"said {status}"}}))
    with pytest.raises(kind, match=f"anthropic: HTTP {status}: said {status}"):
        provider(wire, http).generate(ASK)


def test_overloaded_error_event_mid_stream_is_transient(wire: WireServer, http: Http) -> None:
    wire.add(Reply(sse=[start(), event("error", error={"type": "overloaded_error", "message": "Overloaded"})]))
    with pytest.raises(TransientError, match="Overloaded"):
        list(provider(wire, http).stream(ASK))


def test_stream_without_message_stop_is_transient(wire: WireServer, http: Http) -> None:
    wire.add(Reply(sse=[start(), event("content_block_start", index=0, content_block={"type": "text", "text": ""})]))
    with pytest.raises(TransientError, match="truncated"):
        list(provider(wire, http).stream(ASK))


def test_malformed_event_data_is_fatal(wire: WireServer, http: Http) -> None:
    wire.add(Reply(sse=[start(), ("content_block_delta", "{not json")]))
    with pytest.raises(FatalError, match="malformed JSON"):
        list(provider(wire, http).stream(ASK))


@pytest.mark.parametrize("stream", [False, True])
def test_full_agent_loop_with_a_tool_call(wire: WireServer, client: httpx.Client, config, stream: bool) -> None:
    if stream:
        wire.add(Reply(sse=[start(), event("content_block_start", index=0,
                                           content_block={"type": "tool_use", "id": "tu1", "name": "add", "input": {}}),
                            event("content_block_delta", index=0,
                                  delta={"type": "input_json_delta", "partial_json": '{"a": 2, "b": 3}'}),
                            event("content_block_stop", index=0), *end("tool_use", 5)]),
                 Reply(sse=[start(), event("content_block_start", index=0, content_block={"type": "text", "text": ""}),
                            event("content_block_delta", index=0, delta={"type": "text_delta", "text": "The sum is 5."}),
                            event("content_block_stop", index=0), *end("end_turn", 5)]))
    else:
        wire.add(Reply(json=message(tool_use("tu1", {"a": 2, "b": 3}), stop="tool_use")),
                 Reply(json=message(text("The sum is 5."))))
    result, events = run_loop(config.replace(stream=stream), provider(wire, Http(client)))
    assert result.status == "completed" and result.output == "The sum is 5."
    assert next(e for e in events if e.type == "tool.result").data["result"] == {"sum": 5}
    assert wire.requests[1].body["messages"][-1]["content"] == [
        {"type": "tool_result", "tool_use_id": "tu1", "content": '{"sum": 5}'}]
    assert result.usage.input_tokens == (20 if stream else 24)


def test_a_rejected_key_never_reaches_the_error_or_the_events(wire: WireServer, client: httpx.Client, config) -> None:
    wire.add(Reply(401, {"type": "error", "error": {"type": "authentication_error",
                                                    "message": "invalid x-api-key: sk-ant-test"}}))
    result, events = run_loop(config, provider(wire, Http(client)))
    assert result.status == "failed" and "authentication_error" in result.error
    assert "sk-ant-test" not in result.error and "sk-ant-test" not in str(events)
    assert len(wire.requests) == 1


@pytest.mark.parametrize(("choice", "sent"), [
    (None, {"type": "auto"}), ("required", {"type": "any"}), ("none", {"type": "none"}),
    ("add", {"type": "tool", "name": "add"}),
])
def test_tool_choice_maps_to_the_messages_api_field(wire: WireServer, http: Http, choice: str | None,
                                                   sent: dict) -> None:
    wire.add(Reply(json=message(text("5"))), Reply(json=message(text("hi"))))
    adapter = provider(wire, http)
    adapter.generate(dataclasses.replace(ASK, tool_choice=choice, max_output_tokens=32))
    adapter.generate(LLMRequest((ChatMessage("user", "hi"),), tool_choice=choice))
    assert wire.requests[0].body["tool_choice"] == sent and wire.requests[0].body["max_tokens"] == 32
    assert "tool_choice" not in wire.requests[1].body


def test_max_tokens_stop_reason_is_truncated(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=message(text("The sum"), stop="max_tokens")))
    assert provider(wire, http).generate(ASK).truncated
