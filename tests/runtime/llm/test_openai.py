"""OpenAI Chat Completions adapter against the local wire server, through real httpx."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest

from agentstage.runtime import Config, System
from agentstage.runtime.errors import FatalError, RateLimited, TransientError
from agentstage.runtime.llm.factory import create_provider
from agentstage.runtime.llm.openai import OpenAIProvider
from agentstage.runtime.llm.types import ChatMessage, LLMRequest, ToolCall
from agentstage.runtime.tools.registry import ToolRegistry
from tests.runtime.llm.agent_loop import ADD, run_loop
from tests.runtime.llm.paths import Http
from tests.runtime.llm.wire_server import Reply, WireServer

ASK = LLMRequest((ChatMessage("user", "add 2 and 3"),), (ADD.spec,), system="be brief")


def completion(content: str | None = None, tool_calls: list[dict] | None = None) -> dict:
    message = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}


def call(id: str, name: str, arguments: dict) -> dict:
    return {"id": id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


def chunk(delta: dict, finish: str | None = None) -> tuple[None, dict]:
    return None, {"id": "chatcmpl-2", "object": "chat.completion.chunk", "model": "gpt-4o-mini",
                  "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def provider(wire: WireServer, http: Http) -> OpenAIProvider:
    return http(OpenAIProvider("sk-test", "gpt-4o-mini", f"{wire.base}/v1", **http.clients))


def test_generate_sends_documented_body_and_reads_text_and_usage(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=completion("5")))
    response = provider(wire, http).generate(ASK)
    assert (response.content, response.finish_reason, response.usage.total_tokens) == ("5", "stop", 18)
    seen = wire.requests[0]
    assert seen.headers["authorization"] == "Bearer sk-test"
    assert seen.body["messages"][0] == {"role": "system", "content": "be brief"}
    assert seen.body["tools"][0]["function"]["parameters"] == ADD.parameters
    assert "stream" not in seen.body


def test_several_tool_calls_in_one_turn_are_parsed(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=completion(None, [call("c1", "add", {"a": 1, "b": 2}), call("c2", "add", {"a": 3, "b": 4})])))
    response = provider(wire, http).generate(ASK)
    assert response.tool_calls == (ToolCall("c1", "add", {"a": 1, "b": 2}), ToolCall("c2", "add", {"a": 3, "b": 4}))
    assert response.content == ""


def test_tool_results_go_back_as_tool_messages(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=completion("3 and 7")))
    calls = (ToolCall("c1", "add", {"a": 1, "b": 2}), ToolCall("c2", "add", {"a": 3, "b": 4}))
    request = LLMRequest((ChatMessage("user", "sums?"), ChatMessage("assistant", "", calls),
                          ChatMessage("tool", '{"sum": 3}', tool_call_id="c1", name="add"),
                          ChatMessage("tool", '{"sum": 7}', tool_call_id="c2", name="add")), (ADD.spec,))
    provider(wire, http).generate(request)
    messages = wire.requests[0].body["messages"]
    assert messages[1]["tool_calls"][1]["function"] == {"name": "add", "arguments": '{"a": 3, "b": 4}'}
    assert messages[2:] == [{"role": "tool", "tool_call_id": "c1", "content": '{"sum": 3}'},
                            {"role": "tool", "tool_call_id": "c2", "content": '{"sum": 7}'}]


def test_stream_yields_text_and_assembles_split_tool_call_deltas(wire: WireServer, http: Http) -> None:
    wire.add(Reply(sse=[
        chunk({"role": "assistant", "content": "Let me "}), chunk({"content": "add."}),
        chunk({"tool_calls": [{"index": 0, "id": "c1", "type": "function", "function": {"name": "add", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a": 1,'}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "c2", "type": "function", "function": {"name": "add", "arguments": '{"a"'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ' "b": 2}'}}]}),
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": ': 3, "b": 4}'}}]}, "tool_calls"),
        (None, {"id": "chatcmpl-2", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 20}}),
        (None, "[DONE]"),
    ]))
    deltas = list(provider(wire, http).stream(ASK))
    assert [d.text for d in deltas if d.text] == ["Let me ", "add."]
    final = deltas[-1].final
    assert final.content == "Let me add." and final.finish_reason == "tool_calls"
    assert final.tool_calls == (ToolCall("c1", "add", {"a": 1, "b": 2}), ToolCall("c2", "add", {"a": 3, "b": 4}))
    assert (final.usage.input_tokens, final.usage.output_tokens) == (9, 20)
    assert wire.requests[0].body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("headers, expected", [({"retry-after": "2"}, 2.0), ({"retry-after-ms": "1500"}, 1.5), ({}, None)])
def test_429_is_rate_limited_with_the_servers_delay(wire: WireServer, http: Http, headers: dict,
                                                   expected: float | None) -> None:
    wire.add(Reply(429, {"error": {"message": "Rate limit reached", "type": "requests"}}, headers=headers))
    with pytest.raises(RateLimited) as caught:
        provider(wire, http).generate(ASK)
    assert caught.value.retry_after == expected and "Rate limit reached" in str(caught.value)
    assert caught.value.provider == "openai"


@pytest.mark.parametrize("status, kind", [(500, TransientError), (503, TransientError), (408, TransientError),
                                          (409, TransientError), (400, FatalError), (401, FatalError),
                                          (404, FatalError)])
def test_status_maps_to_typed_error_with_vendor_message(wire: WireServer, http: Http, status: int,
                                                        kind: type) -> None:
    wire.add(Reply(status, {"error": {"message": f"vendor says {status}", "type": "x"}}))
    with pytest.raises(kind) as caught:
        provider(wire, http).generate(ASK)
    assert type(caught.value) is kind and caught.value.status == status
    assert f"vendor says {status}" in str(caught.value) and str(caught.value).startswith("openai:")


def test_x_should_retry_false_makes_a_500_fatal(wire: WireServer, http: Http) -> None:
    wire.add(Reply(500, {"error": {"message": "boom"}}, headers={"x-should-retry": "false"}))
    with pytest.raises(FatalError):
        provider(wire, http).generate(ASK)


def test_malformed_json_body_is_fatal(wire: WireServer, http: Http) -> None:
    wire.add(Reply(raw=b'{"choices": [ oops'))
    with pytest.raises(FatalError, match="malformed JSON"):
        provider(wire, http).generate(ASK)


def test_body_without_choices_is_fatal(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json={"id": "x", "object": "chat.completion"}))
    with pytest.raises(FatalError, match="unexpected response shape"):
        provider(wire, http).generate(ASK)


@pytest.mark.parametrize("cut", [False, True])
def test_truncated_stream_is_transient(wire: WireServer, http: Http, cut: bool) -> None:
    wire.add(Reply(sse=[chunk({"content": "half"})], cut=cut))
    with pytest.raises(TransientError):
        list(provider(wire, http).stream(ASK))


def test_error_event_in_stream_is_transient(wire: WireServer, http: Http) -> None:
    wire.add(Reply(sse=[chunk({"content": "a"}), (None, {"error": {"message": "server overloaded"}})]))
    with pytest.raises(TransientError, match="server overloaded"):
        list(provider(wire, http).stream(ASK))


def test_slow_server_times_out_as_transient(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=completion("late"), delay=1.0))
    with pytest.raises(TransientError, match="timed out"):
        http(OpenAIProvider("sk-test", "gpt-4o-mini", f"{wire.base}/v1", timeout=0.2)).generate(ASK)


def test_refused_connection_is_transient(http: Http) -> None:
    with WireServer() as gone:
        base = gone.base
    with pytest.raises(TransientError, match="connection error"):
        http(OpenAIProvider("sk-test", "gpt-4o-mini", f"{base}/v1", **http.clients)).generate(ASK)


def test_openai_base_url_points_the_factory_at_a_compatible_server(wire: WireServer) -> None:
    wire.add(Reply(json=completion("hi")))
    cfg = Config.from_env({"OPENAI_BASE_URL": f"{wire.base}/v1", "OPENAI_API_KEY": "none"}, dotenv=None,
                             provider="openai", model="local-model")
    made = create_provider(cfg)
    try:
        assert made.generate(ASK).content == "hi"
    finally:
        made.close()
    assert wire.requests[0].body["model"] == "local-model"


@pytest.mark.parametrize("stream", [False, True])
def test_full_agent_loop_with_a_tool_call(wire: WireServer, client: httpx.Client, config, stream: bool) -> None:
    if stream:
        wire.add(Reply(sse=[chunk({"tool_calls": [{"index": 0, "id": "c1", "type": "function",
                                                    "function": {"name": "add", "arguments": '{"a": 2, '}}]}),
                            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"b": 3}'}}]}, "tool_calls"),
                            (None, "[DONE]")]),
                 Reply(sse=[chunk({"content": "The sum "}), chunk({"content": "is 5."}, "stop"), (None, "[DONE]")]))
    else:
        wire.add(Reply(json=completion(None, [call("c1", "add", {"a": 2, "b": 3})])), Reply(json=completion("The sum is 5.")))
    result, events = run_loop(config.replace(stream=stream), provider(wire, Http(client)))
    assert result.status == "completed" and result.output == "The sum is 5."
    tool_result = next(e for e in events if e.type == "tool.result")
    assert tool_result.data["result"] == {"sum": 5}
    assert wire.requests[1].body["messages"][-1] == {"role": "tool", "tool_call_id": "c1", "content": '{"sum": 5}'}


def test_rate_limit_is_retried_by_the_agent_after_the_servers_delay(wire: WireServer, client: httpx.Client,
                                                                    config) -> None:
    wire.add(Reply(429, {"error": {"message": "Rate limit reached"}}, headers={"retry-after-ms": "20"}),
             Reply(json=completion("fine")))
    result, events = run_loop(config, provider(wire, Http(client)))
    assert result.status == "completed" and result.output == "fine"
    retry = next(e for e in events if e.type == "llm.retry")
    assert retry.data["delay_s"] == 0.02 and "Rate limit reached" in retry.error


def test_persistent_500s_fail_the_run_and_the_agent_serves_the_next_run(wire: WireServer, client: httpx.Client,
                                                                         config) -> None:
    wire.add(*[Reply(500, {"error": {"message": "internal"}}) for _ in range(3)], Reply(json=completion("back")))
    quick = config.replace(retry_initial_backoff=0.01, tools="add", max_iterations=3)
    with System(quick, tools=ToolRegistry([ADD]), providers={"default": provider(wire, Http(client))}) as system:
        failed = system.run("first", timeout=60)
        recovered = system.run("second", timeout=60)
    assert failed.status == "failed" and failed.error == "openai: HTTP 500: internal"
    assert recovered.output == "back" and len(wire.requests) == 4


def test_a_stream_refused_with_429_is_rate_limited(wire: WireServer, http: Http) -> None:
    wire.add(Reply(429, {"error": {"message": "Rate limit reached"}}, headers={"retry-after": "5"}))
    with pytest.raises(RateLimited) as caught:
        list(provider(wire, http).stream(ASK))
    assert caught.value.retry_after == 5.0


@pytest.mark.parametrize(("choice", "sent"), [
    (None, "auto"), ("auto", "auto"), ("none", "none"),
    # NOTE: the wire server is not api.openai.com, so `required` with its one tool goes as that tool's name
    ("required", {"type": "function", "function": {"name": "add"}}),
    ("add", {"type": "function", "function": {"name": "add"}}),
])
def test_tool_choice_is_sent_whenever_tools_are(wire: WireServer, http: Http, choice: str | None, sent: object) -> None:
    wire.add(Reply(json=completion("5")), Reply(json=completion("hi")))
    adapter = provider(wire, http)
    adapter.generate(dataclasses.replace(ASK, tool_choice=choice))
    adapter.generate(LLMRequest((ChatMessage("user", "hi"),), tool_choice=choice))
    assert wire.requests[0].body["tool_choice"] == sent
    assert "tool_choice" not in wire.requests[1].body


def test_tool_call_content_is_null_for_openai_and_a_string_for_compatible_servers() -> None:
    request = LLMRequest((ChatMessage("user", "sum?"), ChatMessage("assistant", "", (ToolCall("c1", "add", {}),)),
                          ChatMessage("tool", "3", tool_call_id="c1")), (ADD.spec,))
    official = OpenAIProvider("sk-test").body(request, stream=False)
    compatible = OpenAIProvider("sk-test", base_url="http://127.0.0.1:8000/v1").body(request, stream=False)
    assert official["messages"][1]["content"] is None and compatible["messages"][1]["content"] == ""
    assert "max_completion_tokens" in OpenAIProvider("k").body(dataclasses.replace(request, max_output_tokens=9),
                                                               stream=False)


def test_compatible_server_rejects_null_content_with_a_500_that_names_the_cause(client: httpx.Client) -> None:
    with WireServer(compatible=True) as wire:
        wire.add(Reply(json=completion("5")))
        adapter = OpenAIProvider("sk-test", "m", f"{wire.base}/v1", client)
        adapter._empty_content = None  # as the official API's shape, which this server refuses
        request = LLMRequest((ChatMessage("user", "sum?"), ChatMessage("assistant", "", (ToolCall("c1", "add", {}),)),
                              ChatMessage("tool", "3", tool_call_id="c1")), (ADD.spec,))
        with pytest.raises(TransientError) as caught:
            adapter.generate(request)
        assert wire.rejected and "('body', 'messages', 1, 'content'): Input should be a valid string" in str(caught.value)
        adapter._empty_content = ""
        assert adapter.generate(request).content == "5"
        assert not wire.violations


@pytest.mark.parametrize("stream", [False, True])
def test_forced_tool_round_trip_on_a_compatible_server(client: httpx.Client, config: Config, stream: bool) -> None:
    with WireServer(compatible=True) as wire:
        if stream:
            wire.add(Reply(sse=[chunk({"tool_calls": [{"index": 0, "id": "c1", "type": "function", "function": {
                "name": "add", "arguments": '{"a": 2, "b": 3}'}}]}, "tool_calls"), (None, "[DONE]")]),
                Reply(sse=[chunk({"content": "The sum is"}, "length"), (None, "[DONE]")]))
        else:
            wire.add(Reply(json=completion(None, [call("c1", "add", {"a": 2, "b": 3})])),
                     Reply(json={**completion("The sum is"), "choices": [
                         {"index": 0, "message": {"role": "assistant", "content": "The sum is"},
                          "finish_reason": "length"}]}))
        adapter = OpenAIProvider("sk-test", "m", f"{wire.base}/v1", client)
        result, events = run_loop(config.replace(stream=stream, tool_choice="add", max_output_tokens=16), adapter)
        assert not wire.violations and not wire.rejected
    assert result.status == "completed" and result.output == "The sum is"
    first, second = (seen.body for seen in wire.requests)
    assert first["tool_choice"] == {"type": "function", "function": {"name": "add"}} and first["max_tokens"] == 16
    assert second["tool_choice"] == "auto" and second["messages"][1]["content"] == ""
    completed = events[-1]
    assert completed.type == "run.completed" and completed.data["truncated"] is True
    assert [e.data["finish_reason"] for e in events if e.type == "llm.truncated"] == ["length"]


def test_required_with_one_tool_is_sent_to_compatible_servers_as_that_tool() -> None:
    request = LLMRequest((ChatMessage("user", "sum?"),), (ADD.spec,), tool_choice="required")
    compatible = OpenAIProvider("", base_url="http://127.0.0.1:8000/v1")
    assert compatible.body(request, stream=False)["tool_choice"] == {"type": "function", "function": {"name": "add"}}
    assert OpenAIProvider("sk-test").body(request, stream=False)["tool_choice"] == "required"
    two = dataclasses.replace(request, tools=(ADD.spec, dataclasses.replace(ADD.spec, name="add2")))
    assert compatible.body(two, stream=False)["tool_choice"] == "required"
