"""Azure OpenAI adapter against the local wire server, through real httpx."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from agentstage.runtime import Config
from agentstage.runtime.aio import IOLoop
from agentstage.runtime.cli import main
from agentstage.runtime.errors import ConfigError, FatalError, RateLimited, TransientError
from agentstage.runtime.llm.azure import AzureOpenAIProvider
from agentstage.runtime.llm.factory import create_provider, explain_choice, resolve_provider_name
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
    assert next(e for e in events if e.type == "tool.result").data["result"] == {"sum": 5}
    assert wire.requests[1].body["messages"][-1] == {"role": "tool", "tool_call_id": "c1", "content": '{"sum": 5}'}


def test_an_entra_id_token_from_the_environment_is_a_bearer_header(wire: WireServer) -> None:
    env = {"AZURE_OPENAI_AD_TOKEN": "eyJ-token", "AZURE_OPENAI_ENDPOINT": wire.base, "AZURE_OPENAI_DEPLOYMENT": "dep"}
    wire.add(Reply(json=completion("5")))
    made = create_provider(Config.from_env(env, dotenv=None, provider="azure"))
    try:
        assert made.generate(ASK).content == "5"
    finally:
        made.close()
    headers = wire.requests[0].headers
    assert headers["authorization"] == "Bearer eyJ-token" and "api-key" not in headers


def test_auto_picks_azure_for_an_entra_id_token() -> None:
    config = Config.from_env({"AZURE_OPENAI_AD_TOKEN": "t"}, dotenv=None)
    assert resolve_provider_name(config) == "azure" and explain_choice(config) == "auto found AZURE_OPENAI_AD_TOKEN"


def test_neither_key_nor_token_is_one_config_error_naming_both(wire: WireServer) -> None:
    env = {"AZURE_OPENAI_ENDPOINT": wire.base, "AZURE_OPENAI_DEPLOYMENT": "dep"}
    with pytest.raises(ConfigError, match="AZURE_OPENAI_API_KEY.*AZURE_OPENAI_AD_TOKEN") as caught:
        create_provider(Config.from_env(env, dotenv=None, provider="azure"))
    assert "\n" not in str(caught.value)
    with pytest.raises(ValueError, match="api_key, ad_token or ad_token_provider"):
        AzureOpenAIProvider("", wire.base, "dep")


def test_cli_without_key_or_token_fails_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for variable in ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENT", "dep")
    code = main(["run", "--home", str(tmp_path / "home"), "--provider", "azure", "--", "hello"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "AZURE_OPENAI_AD_TOKEN" in err


def test_a_token_provider_is_asked_before_every_request(wire: WireServer, http: Http) -> None:
    tokens = iter(["tok-1", "tok-2"])
    wire.add(Reply(json=completion("5")), Reply(sse=[(None, {"id": "c", "choices": [
        {"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]}), (None, "[DONE]")]))
    adapter = http(AzureOpenAIProvider("", wire.base, "dep", ad_token_provider=lambda: next(tokens), **http.clients))
    adapter.generate(ASK)
    list(adapter.stream(ASK))
    assert [s.headers["authorization"] for s in wire.requests] == ["Bearer tok-1", "Bearer tok-2"]
    assert all("api-key" not in s.headers for s in wire.requests)


def test_an_async_token_provider_is_awaited_on_the_async_path(wire: WireServer, io: IOLoop) -> None:
    async def token() -> str:
        return "tok-async"

    wire.add(Reply(json=completion("5")))
    adapter = AzureOpenAIProvider("az-key", wire.base, "dep", ad_token_provider=token)
    try:
        assert io.run(adapter.agenerate(ASK)).content == "5"
        with pytest.raises(FatalError, match="ad_token_provider is async"):
            adapter.generate(ASK)
    finally:
        adapter.close()
        io.run(adapter.aclose())
    assert wire.requests[0].headers["authorization"] == "Bearer tok-async" and "api-key" not in wire.requests[0].headers


def test_a_failing_token_provider_is_a_transient_provider_error(wire: WireServer, http: Http) -> None:
    def broken() -> str:
        raise OSError("identity endpoint unreachable\nsecond line")

    adapter = http(AzureOpenAIProvider("", wire.base, "dep", ad_token_provider=broken, **http.clients))
    with pytest.raises(TransientError, match="^azure: ad_token_provider failed: OSError: identity endpoint"):
        adapter.generate(ASK)
    empty = http(AzureOpenAIProvider("", wire.base, "dep", ad_token_provider=lambda: "", **http.clients))
    with pytest.raises(FatalError, match="ad_token_provider returned no token"):
        empty.generate(ASK)
    assert wire.requests == []


def test_a_provided_token_echoed_in_an_error_is_scrubbed(wire: WireServer, http: Http) -> None:
    wire.add(Reply(401, {"error": {"code": "401", "message": "token eyJ-secret expired"}}))
    adapter = http(AzureOpenAIProvider("", wire.base, "dep", ad_token_provider=lambda: "eyJ-secret", **http.clients))
    with pytest.raises(FatalError, match=r"token \*\*\* expired") as caught:
        adapter.generate(ASK)
    assert "eyJ-secret" not in str(caught.value)


def test_a_retried_call_fetches_the_token_again(wire: WireServer, client: httpx.Client, config) -> None:
    tokens = iter(["tok-1", "tok-2", "tok-3"])
    wire.add(Reply(503, {"error": {"code": "503", "message": "busy"}}), Reply(json=completion("The sum is 5.")))
    adapter = AzureOpenAIProvider("", wire.base, "dep", client=client, ad_token_provider=lambda: next(tokens))
    result, _ = run_loop(config, adapter)
    assert result.status == "completed"
    assert [s.headers["authorization"] for s in wire.requests] == ["Bearer tok-1", "Bearer tok-2"]
