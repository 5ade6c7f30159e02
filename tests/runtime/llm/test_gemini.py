"""Gemini generateContent adapter against the local wire server, through real httpx."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest

from agentstage.runtime.errors import FatalError, RateLimited, TransientError
from agentstage.runtime.llm.gemini import GeminiProvider
from agentstage.runtime.llm.types import ChatMessage, LLMRequest, ToolCall
from tests.runtime.llm.agent_loop import ADD, run_loop
from tests.runtime.llm.paths import Http
from tests.runtime.llm.wire_server import Reply, WireServer

ASK = LLMRequest((ChatMessage("user", "add 2 and 3"),), (ADD.spec,), system="be brief")


def answer(*parts: dict, finish: str | None = "STOP", usage: bool = True) -> dict:
    body: dict = {"candidates": [{"content": {"role": "model", "parts": list(parts)}, "index": 0}],
                  "modelVersion": "gemini-2.5-flash"}
    if finish:
        body["candidates"][0]["finishReason"] = finish
    if usage:
        body["usageMetadata"] = {"promptTokenCount": 14, "candidatesTokenCount": 5, "totalTokenCount": 19}
    return body


def fcall(args: dict, call_id: str | None = None) -> dict:
    return {"functionCall": {**({"id": call_id} if call_id else {}), "name": "add", "args": args}}


def provider(wire: WireServer, http: Http) -> GeminiProvider:
    return http(GeminiProvider("AIza-test", "gemini-2.5-flash", f"{wire.base}/v1beta", **http.clients))


def test_generate_sends_contents_and_key_header_and_reads_usage(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=answer({"text": "5"})))
    response = provider(wire, http).generate(ASK)
    assert (response.content, response.finish_reason, response.usage.total_tokens) == ("5", "STOP", 19)
    seen = wire.requests[0]
    assert seen.path == "/v1beta/models/gemini-2.5-flash:generateContent" and "key" not in seen.query
    assert seen.headers["x-goog-api-key"] == "AIza-test"
    assert seen.body["systemInstruction"] == {"parts": [{"text": "be brief"}]}
    assert seen.body["contents"] == [{"role": "user", "parts": [{"text": "add 2 and 3"}]}]
    assert seen.body["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"] == ADD.parameters


def test_function_calls_without_ids_get_ids_unique_across_turns(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=answer(fcall({"a": 1, "b": 2}), fcall({"a": 3, "b": 4}))), Reply(json=answer(fcall({"a": 5, "b": 6}))))
    adapter = provider(wire, http)
    first, second = adapter.generate(ASK).tool_calls, adapter.generate(ASK).tool_calls
    assert [(c.name, c.arguments) for c in first] == [("add", {"a": 1, "b": 2}), ("add", {"a": 3, "b": 4})]
    ids = [c.id for c in first + second]
    assert all(i.startswith("call_") for i in ids) and len(set(ids)) == 3


def test_server_function_call_ids_are_kept(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=answer(fcall({"a": 1, "b": 2}, "fc-1"), fcall({"a": 3, "b": 4}, "fc-2"))))
    response = provider(wire, http).generate(ASK)
    assert response.tool_calls == (ToolCall("fc-1", "add", {"a": 1, "b": 2}), ToolCall("fc-2", "add", {"a": 3, "b": 4}))


def test_server_ids_go_back_in_the_call_and_its_response(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=answer(fcall({"a": 1, "b": 2}, "fc-1"), fcall({"a": 3, "b": 4}, "fc-2"))),
             Reply(json=answer({"text": "3 and 7"})))
    adapter = provider(wire, http)
    calls = adapter.generate(ASK).tool_calls
    results = tuple(ChatMessage("tool", json.dumps({"sum": c.arguments["a"] + c.arguments["b"]}), tool_call_id=c.id)
                    for c in reversed(calls))
    adapter.generate(dataclasses.replace(ASK, messages=(*ASK.messages, ChatMessage("assistant", "", calls), *results)))
    contents = wire.requests[1].body["contents"]
    assert contents[1] == {"role": "model", "parts": [fcall({"a": 1, "b": 2}, "fc-1"), fcall({"a": 3, "b": 4}, "fc-2")]}
    assert contents[2] == {"role": "user", "parts": [
        {"functionResponse": {"id": "fc-2", "name": "add", "response": {"sum": 7}}},
        {"functionResponse": {"id": "fc-1", "name": "add", "response": {"sum": 3}}}]}


def test_made_up_ids_are_never_sent_to_the_server(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=answer(fcall({"a": 1, "b": 2}))), Reply(json=answer({"text": "3"})))
    adapter = provider(wire, http)
    (call,) = adapter.generate(ASK).tool_calls
    adapter.generate(dataclasses.replace(ASK, messages=(*ASK.messages, ChatMessage("assistant", "", (call,)),
                                                        ChatMessage("tool", "3", tool_call_id=call.id))))
    assert wire.requests[1].body["contents"][1:] == [
        {"role": "model", "parts": [fcall({"a": 1, "b": 2})]},
        {"role": "user", "parts": [{"functionResponse": {"name": "add", "response": {"result": 3}}}]}]


def test_tool_results_are_function_responses_in_one_user_turn(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=answer({"text": "3 and 7"})))
    calls = (ToolCall("call_1", "add", {"a": 1, "b": 2}), ToolCall("call_2", "add", {"a": 3, "b": 4}))
    request = LLMRequest((ChatMessage("user", "sums?"), ChatMessage("assistant", "", calls),
                          ChatMessage("tool", '{"sum": 3}', tool_call_id="call_1", name="add"),
                          ChatMessage("tool", "7", tool_call_id="call_2", name="add")), (ADD.spec,))
    provider(wire, http).generate(request)
    contents = wire.requests[0].body["contents"]
    assert contents[1] == {"role": "model", "parts": [fcall({"a": 1, "b": 2}), fcall({"a": 3, "b": 4})]}
    assert contents[2] == {"role": "user", "parts": [
        {"functionResponse": {"name": "add", "response": {"sum": 3}}},
        {"functionResponse": {"name": "add", "response": {"result": 7}}}]}


def test_stream_uses_sse_and_assembles_text_and_calls(wire: WireServer, http: Http) -> None:
    wire.add(Reply(sse=[(None, answer({"text": "Let me "}, finish=None, usage=False)),
                        (None, answer({"text": "add."}, finish=None, usage=False)),
                        (None, answer(fcall({"a": 1, "b": 2}, "fc-1"), {"thought": True, "text": "hidden"}))]))
    deltas = list(provider(wire, http).stream(ASK))
    assert [d.text for d in deltas if d.text] == ["Let me ", "add."]
    final = deltas[-1].final
    assert final.content == "Let me add." and final.tool_calls == (ToolCall("fc-1", "add", {"a": 1, "b": 2}),)
    assert wire.requests[0].path.endswith(":streamGenerateContent") and wire.requests[0].query["alt"] == ["sse"]


def test_stream_without_finish_reason_is_transient(wire: WireServer, http: Http) -> None:
    wire.add(Reply(sse=[(None, answer({"text": "half"}, finish=None, usage=False))]))
    with pytest.raises(TransientError, match="truncated"):
        list(provider(wire, http).stream(ASK))


def test_blocked_prompt_is_fatal(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json={"promptFeedback": {"blockReason": "SAFETY"}}))
    with pytest.raises(FatalError, match="prompt blocked: SAFETY"):
        provider(wire, http).generate(ASK)


def test_429_resource_exhausted_is_rate_limited(wire: WireServer, http: Http) -> None:
    wire.add(Reply(429, {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}},
                   headers={"retry-after": "1"}))
    with pytest.raises(RateLimited, match="Quota exceeded") as caught:
        provider(wire, http).generate(ASK)
    assert caught.value.retry_after == 1.0


@pytest.mark.parametrize("status, kind", [(503, TransientError), (404, FatalError), (403, FatalError)])
def test_error_statuses_carry_the_vendor_message(wire: WireServer, http: Http, status: int,
                                                 kind: type) -> None:
    wire.add(Reply(status, {"error": {"code": status, "message": f"said {status}", "status": "X"}}))
    with pytest.raises(kind, match=f"gemini: HTTP {status}: said {status}"):
        provider(wire, http).generate(ASK)


def test_malformed_json_is_fatal(wire: WireServer, http: Http) -> None:
    wire.add(Reply(raw=b"<html>bad gateway</html>"))
    with pytest.raises(FatalError, match="malformed JSON"):
        provider(wire, http).generate(ASK)


@pytest.mark.parametrize("call_id", [None, "fc-7"], ids=["no-id", "server-id"])
@pytest.mark.parametrize("stream", [False, True])
def test_full_agent_loop_with_a_tool_call(wire: WireServer, client: httpx.Client, config, stream: bool,
                                          call_id: str | None) -> None:
    signed = {**fcall({"a": 2, "b": 3}, call_id), "thoughtSignature": "c2lnbmVk"}
    if stream:
        wire.add(Reply(sse=[(None, answer(signed))]),
                 Reply(sse=[(None, answer({"text": "The sum "}, finish=None, usage=False)),
                            (None, answer({"text": "is 5."}))]))
    else:
        wire.add(Reply(json=answer(signed)), Reply(json=answer({"text": "The sum is 5."})))
    result, events = run_loop(config.replace(stream=stream), provider(wire, Http(client)))
    assert result.status == "completed" and result.output == "The sum is 5."
    assert next(e for e in events if e.type == "tool.result").data["result"] == {"sum": 5}
    assert wire.requests[1].body["contents"][-2] == {"role": "model", "parts": [signed]}
    assert wire.requests[1].body["contents"][-1] == {
        "role": "user", "parts": [{"functionResponse": {**({"id": call_id} if call_id else {}), "name": "add",
                                                        "response": {"sum": 5}}}]}
    assert result.usage.total_tokens == 38
    used = next(e for e in events if e.type == "tool.call").data["tool_call_id"]
    assert used == call_id if call_id else used.startswith("call_")


@pytest.mark.parametrize(("choice", "sent"), [
    (None, {"mode": "AUTO"}), ("required", {"mode": "ANY"}), ("none", {"mode": "NONE"}),
    ("add", {"mode": "ANY", "allowedFunctionNames": ["add"]}),
])
def test_tool_choice_is_the_function_calling_config(wire: WireServer, http: Http, choice: str | None,
                                                    sent: dict) -> None:
    wire.add(Reply(json=answer({"text": "5"})), Reply(json=answer({"text": "hi"})))
    adapter = provider(wire, http)
    adapter.generate(dataclasses.replace(ASK, tool_choice=choice))
    adapter.generate(LLMRequest((ChatMessage("user", "hi"),), tool_choice=choice))
    assert wire.requests[0].body["toolConfig"] == {"functionCallingConfig": sent}
    assert "toolConfig" not in wire.requests[1].body


def test_max_tokens_finish_reason_is_truncated(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=answer({"text": "The sum"}, finish="MAX_TOKENS")))
    response = provider(wire, http).generate(dataclasses.replace(ASK, max_output_tokens=8))
    assert response.truncated and wire.requests[0].body["generationConfig"] == {"maxOutputTokens": 8}
