"""Azure OpenAI adapter against the local wire server, through real httpx."""

from __future__ import annotations

import json

import httpx
import pytest

from agentstage.runtime import Config
from agentstage.runtime.errors import ConfigError, FatalError, RateLimited
from agentstage.runtime.llm.azure import AzureOpenAIProvider
from agentstage.runtime.llm.factory import create_provider
from agentstage.runtime.llm.types import ChatMessage, LLMRequest
from tests.runtime.llm.agent_loop import ADD, run_loop
from tests.runtime.llm.paths import Http
from tests.runtime.llm.wire_server import Reply, WireServer

ASK = LLMRequest((ChatMessage("user", "add 2 and 3"),), (ADD.spec,))


def completion(content: str | None, calls: list[dict] | None = None) -> dict:
    message = {"role": "assistant", "content": content, **({"tool_calls": calls} if calls else {})}
    return {"id": "chatcmpl-az", "object": "chat.completion", "model": "gpt-4o",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop",
                         "content_filter_results": {}}],
            "prompt_filter_results": [], "usage": {"prompt_tokens": 8, "completion_tokens": 2}}


def provider(wire: WireServer, http: Http) -> AzureOpenAIProvider:
    return http(AzureOpenAIProvider("az-key", wire.base, "my-gpt4o", "2024-10-21", **http.clients))


def test_deployment_url_api_version_and_api_key_header(wire: WireServer, http: Http) -> None:
    wire.add(Reply(json=completion("5")))
    assert provider(wire, http).generate(ASK).content == "5"
    seen = wire.requests[0]
    assert seen.path == "/openai/deployments/my-gpt4o/chat/completions"
    assert seen.query == {"api-version": ["2024-10-21"]}
    assert seen.headers["api-key"] == "az-key" and "authorization" not in seen.headers
    assert "model" not in seen.body


def test_stream_skips_prompt_filter_chunks(wire: WireServer, http: Http) -> None:
    wire.add(Reply(sse=[(None, {"id": "", "choices": [], "prompt_filter_results": [{"prompt_index": 0}]}),
                        (None, {"id": "c", "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}]}),
                        (None, {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
                        (None, "[DONE]")]))
    deltas = list(provider(wire, http).stream(ASK))
    assert [d.text for d in deltas if d.text] == ["hi"] and deltas[-1].final.finish_reason == "stop"


def test_429_with_retry_after_ms(wire: WireServer, http: Http) -> None:
    wire.add(Reply(429, {"error": {"code": "429", "message": "Requests exceeded token rate limit"}},
                   headers={"retry-after-ms": "250", "retry-after": "1"}))
    with pytest.raises(RateLimited, match="token rate limit") as caught:
        provider(wire, http).generate(ASK)
    assert caught.value.retry_after == 0.25


def test_unknown_deployment_is_fatal(wire: WireServer, http: Http) -> None:
    wire.add(Reply(404, {"error": {"code": "DeploymentNotFound", "message": "The API deployment does not exist"}}))
    with pytest.raises(FatalError, match="azure: HTTP 404: The API deployment does not exist"):
        provider(wire, http).generate(ASK)


def test_factory_needs_endpoint_and_deployment(wire: WireServer) -> None:
    env = {"AZURE_OPENAI_API_KEY": "az-key", "AZURE_OPENAI_ENDPOINT": wire.base}
    with pytest.raises(ConfigError, match="AZURE_OPENAI_DEPLOYMENT"):
        create_provider(Config.from_env(env, dotenv=None, provider="azure"))
    made = create_provider(Config.from_env({**env, "AZURE_OPENAI_DEPLOYMENT": "dep"}, dotenv=None, provider="azure"))
    try:
        assert made.url == f"{wire.base}/openai/deployments/dep/chat/completions?api-version=2024-10-21"
    finally:
        made.close()


@pytest.mark.parametrize("stream", [False, True])
def test_full_agent_loop_with_a_tool_call(wire: WireServer, client: httpx.Client, config, stream: bool) -> None:
    tool_call = {"id": "c1", "type": "function", "function": {"name": "add", "arguments": json.dumps({"a": 2, "b": 3})}}
    if stream:
        wire.add(Reply(sse=[(None, {"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, **tool_call}]},
                                                             "finish_reason": "tool_calls"}]}), (None, "[DONE]")]),
                 Reply(sse=[(None, {"id": "c", "choices": [{"index": 0, "delta": {"content": "The sum is 5."},
                                                             "finish_reason": "stop"}]}), (None, "[DONE]")]))
    else:
        wire.add(Reply(json=completion(None, [tool_call])), Reply(json=completion("The sum is 5.")))
    result, events = run_loop(config.replace(stream=stream), provider(wire, Http(client)))
    assert result.status == "completed" and result.output == "The sum is 5."
    assert next(e for e in events if e["type"] == "tool.result")["data"]["result"] == {"sum": 5}
    assert wire.requests[1].body["messages"][-1] == {"role": "tool", "tool_call_id": "c1", "content": '{"sum": 5}'}
