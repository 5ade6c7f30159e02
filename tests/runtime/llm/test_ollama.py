"""Ollama /api/chat adapter against the local wire server, through real httpx."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from agentstage.runtime import Config
from agentstage.runtime.errors import FatalError, TransientError
from agentstage.runtime.llm.factory import create_provider, resolve_provider_name
from agentstage.runtime.llm.ollama import OllamaProvider, host_url
from agentstage.runtime.llm.types import ChatMessage, LLMRequest
from tests.runtime.llm.agent_loop import ADD, run_loop
from tests.runtime.llm.paths import Http
from tests.runtime.llm.wire_server import Reply, WireServer

ASK = LLMRequest((ChatMessage("user", "add 2 and 3"),), (ADD.spec,), system="be brief")


def done(content: str = "", calls: list[dict] | None = None) -> dict:
    message: dict = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = calls
    return {"model": "llama3.2", "created_at": "2025-01-01T00:00:00Z", "message": message, "done": True,
            "done_reason": "stop", "prompt_eval_count": 21, "eval_count": 4}


def piece(content: str) -> dict:
    return {"model": "llama3.2", "message": {"role": "assistant", "content": content}, "done": False}


def fcall(args: dict) -> dict:
    return {"function": {"name": "add", "arguments": args}}


def provider(wire: WireServer, http: Http) -> OllamaProvider:
    return http(OllamaProvider("llama3.2", wire.base, **http.clients))


def test_generate_sends_stream_false_and_reads_counts(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=done("5")))
    response = provider(wire, http).generate(ASK)
    assert (response.content, response.usage.input_tokens, response.usage.output_tokens) == ("5", 21, 4)
    body = wire.requests[0].body
    assert body["stream"] is False and body["messages"][0] == {"role": "system", "content": "be brief"}
    assert body["tools"][0] == {"type": "function", "function": {"name": "add", "description": ADD.description,
                                                                 "parameters": ADD.parameters}}


def test_tool_calls_get_ids_unique_across_turns_and_results_go_back_with_tool_name(wire: WireServer,
                                                                                  http: Http) -> None:
    wire.add(Reply(json=done(calls=[fcall({"a": 1, "b": 2}), fcall({"a": 3, "b": 4})])),
             Reply(json=done(calls=[fcall({"a": 1, "b": 2})])), Reply(json=done("3, 7")))
    first = provider(wire, http).generate(ASK)
    assert [(c.name, c.arguments) for c in first.tool_calls] == [("add", {"a": 1, "b": 2}), ("add", {"a": 3, "b": 4})]
    again = provider(wire, http).generate(ASK)
    ids = [c.id for c in (*first.tool_calls, *again.tool_calls)]
    assert len(set(ids)) == 3 and all(i.startswith("call_") for i in ids)
    request = LLMRequest((*ASK.messages, ChatMessage("assistant", "", first.tool_calls),
                          ChatMessage("tool", '{"sum": 3}', tool_call_id=ids[0], name="add")), ASK.tools)
    provider(wire, http).generate(request)
    messages = wire.requests[2].body["messages"]
    assert messages[-2]["tool_calls"][0] == fcall({"a": 1, "b": 2})
    assert messages[-1] == {"role": "tool", "content": '{"sum": 3}', "tool_name": "add"}


def test_stream_reads_ndjson_lines(wire: WireServer, http: Http) -> None:
    wire.add(Reply(ndjson=[piece("Let me "), piece("add."), {**piece(""), "message": {
        "role": "assistant", "content": "", "tool_calls": [fcall({"a": 1, "b": 2})]}}, done()]))
    deltas = list(provider(wire, http).stream(ASK))
    assert [d.text for d in deltas if d.text] == ["Let me ", "add."]
    final = deltas[-1].final
    [call] = final.tool_calls
    assert final.content == "Let me add." and (call.name, call.arguments) == ("add", {"a": 1, "b": 2})
    assert wire.requests[0].body["stream"] is True


def test_stream_without_done_is_transient(wire: WireServer, http: Http) -> None:
    wire.add(Reply(ndjson=[piece("half")]))
    with pytest.raises(TransientError, match="truncated"):
        list(provider(wire, http).stream(ASK))


def test_unknown_model_is_fatal_with_ollamas_message(wire: WireServer, http: Http) -> None:
    wire.add(Reply(404, {"error": "model 'nope' not found, try pulling it first"}))
    with pytest.raises(FatalError, match="ollama: HTTP 404: model 'nope' not found"):
        provider(wire, http).generate(ASK)


def test_error_line_in_stream_is_transient(wire: WireServer, http: Http) -> None:
    wire.add(Reply(ndjson=[piece("a"), {"error": "runner process has terminated"}]))
    with pytest.raises(TransientError, match="runner process"):
        list(provider(wire, http).stream(ASK))


def test_malformed_line_is_fatal(wire: WireServer, http: Http) -> None:
    wire.add(Reply(ndjson=["{broken"]))
    with pytest.raises(FatalError, match="malformed JSON"):
        list(provider(wire, http).stream(ASK))


def test_ollama_host_selects_ollama_under_auto() -> None:
    config = Config.from_env({"OLLAMA_HOST": "127.0.0.1:9"}, dotenv=None)
    assert resolve_provider_name(config) == "ollama"
    made = create_provider(config)
    try:
        assert made.url == "http://127.0.0.1:9/api/chat"
    finally:
        made.close()


@pytest.mark.parametrize("stream", [False, True])
def test_full_agent_loop_with_a_tool_call(wire: WireServer, client: httpx.Client, config, stream: bool) -> None:
    if stream:
        wire.add(Reply(ndjson=[{**piece(""), "message": {"role": "assistant", "content": "",
                                                         "tool_calls": [fcall({"a": 2, "b": 3})]}}, done()]),
                 Reply(ndjson=[piece("The sum "), piece("is 5."), done()]))
    else:
        wire.add(Reply(json=done(calls=[fcall({"a": 2, "b": 3})])), Reply(json=done("The sum is 5.")))
    result, events = run_loop(config.replace(stream=stream), provider(wire, Http(client)))
    assert result.status == "completed" and result.output == "The sum is 5."
    assert next(e for e in events if e.type == "tool.result").data["result"] == {"sum": 5}
    assert wire.requests[1].body["messages"][-1] == {"role": "tool", "content": '{"sum": 5}', "tool_name": "add"}


@pytest.mark.parametrize("host, url", [("gpu-box", "http://gpu-box:11434"), ("127.0.0.2:8080", "http://127.0.0.2:8080"),
                                       ("https://ollama.example/", "https://ollama.example")])
def test_ollama_host_is_read_like_ollamas_clients(host: str, url: str) -> None:
    assert host_url(host) == url


@pytest.mark.parametrize("choice", [None, "auto", "required", "add"])
def test_tool_choices_other_than_none_send_the_tools_and_no_choice_field(wire: WireServer, http: Http,
                                                                          choice: str | None) -> None:
    wire.add(Reply(json=done("5")))
    provider(wire, http).generate(dataclasses.replace(ASK, tool_choice=choice))
    assert wire.requests[0].body["tools"][0]["function"]["name"] == "add"


def test_tool_choice_none_sends_no_tools(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json={**done("5"), "done_reason": "length"}))
    response = provider(wire, http).generate(dataclasses.replace(ASK, tool_choice="none", max_output_tokens=4))
    assert "tools" not in wire.requests[0].body and wire.requests[0].body["options"] == {"num_predict": 4}
    assert response.truncated
