"""Model listings asked of local servers in each vendor's shape; failures fall back to the fixed lists with a
reason that never holds the key."""

from __future__ import annotations

import dataclasses

import pytest

from agentstage.runtime import Config
from agentstage.runtime.errors import InvalidArgument
from agentstage.runtime.llm.models import FALLBACK_MODELS, list_models
from tests.local_http import LocalHTTP

KEY = "AIzaMARKERMARKERMARKERMARKERMARKER00000"


def with_env(config: Config, **env: str) -> Config:
    return dataclasses.replace(config, env=env)


def test_gemini_lists_models_without_the_prefix_and_sends_the_key_in_a_header(config) -> None:
    with LocalHTTP() as server:
        server.routes["/v1beta/models"] = (200, {"models": [{"name": "models/gemini-x"}, {"name": "models/embed-y"}]})
        answer = list_models(with_env(config, GEMINI_API_KEY=KEY, GEMINI_BASE_URL=f"{server.url}/v1beta"), "gemini")
    assert (answer["source"], answer["models"]) == ("api", ["embed-y", "gemini-2.5-flash", "gemini-x"])
    seen = server.requests[0]
    assert seen["headers"]["x-goog-api-key"] == KEY and KEY not in seen["path"]


def test_ollama_lists_its_pulled_models(config) -> None:
    with LocalHTTP() as server:
        server.routes["/api/tags"] = (200, {"models": [{"name": "qwen3:4b"}, {"name": "llama3.2:latest"}]})
        answer = list_models(with_env(config, OLLAMA_HOST=server.url), "ollama")
    assert answer["source"] == "api" and answer["models"] == ["llama3.2", "llama3.2:latest", "qwen3:4b"]


@pytest.mark.parametrize(("route", "reason"), [
    ((401, {"error": {"message": f"bad key {KEY}"}}), "openai HTTP 401"),
    ((200, {"unexpected": True}), "no data list"),
    ((200, "<html>not json</html>"), "Expecting value"),
])
def test_a_failing_server_gives_the_fallback_list_and_a_reason_without_the_key(config, route, reason) -> None:
    with LocalHTTP() as server:
        server.routes["/v1/models"] = route
        answer = list_models(with_env(config, OPENAI_API_KEY=KEY, OPENAI_BASE_URL=f"{server.url}/v1"), "openai")
    assert answer["source"] == "fallback" and reason in answer["error"] and KEY not in answer["error"]
    assert set(FALLBACK_MODELS["openai"]) <= set(answer["models"])


def test_an_unreachable_server_falls_back(config) -> None:
    answer = list_models(with_env(config, OLLAMA_HOST="http://127.0.0.1:9"), "ollama")
    assert answer["source"] == "fallback" and answer["error"]


def test_the_configured_provider_is_the_default_and_unknown_names_are_refused(config) -> None:
    assert list_models(with_env(config))["provider"] == "scripted"
    assert list_models(with_env(config), "azureopenai")["provider"] == "azure"
    with pytest.raises(InvalidArgument) as refused:
        list_models(with_env(config), "bedrock")
    assert refused.value.field == "provider"
