"""Provider settings at the reference DevUI's paths: provider-env shows which variables are set and never a
secret (nor in the audit log); it cannot be changed over HTTP; provider-models asks a configured provider's
server (a local one here) and otherwise answers a fallback list without any network call."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator

import pytest
from falcon import testing

from agentstage.api import create_app
from agentstage.runtime import Config, System
from agentstage.runtime.llm.scripted import ScriptedProvider
from agentstage.runtime.llm.settings import PROVIDER_ENV
from tests.api.helpers import Keys, issue_keys
from tests.local_http import LocalHTTP

ENV = "/api/v1/settings/provider-env"
MODELS = "/api/v1/settings/provider-models"
MARKER = "sk-MARKER-0123456789abcdef"


@pytest.fixture
def settings_env() -> dict[str, str]:
    return {}


@pytest.fixture
def served(config: Config, settings_env: dict[str, str]) -> Iterator[tuple[testing.TestClient, Keys, System]]:
    settings = dataclasses.replace(config, env=settings_env)
    with System(settings, providers={"default": ScriptedProvider()}) as system:
        app = create_app(system)
        try:
            yield testing.TestClient(app), issue_keys(system), system
        finally:
            app.backend.close()


def audit_text(system: System) -> str:
    rows = system.reader().connection.execute("SELECT action, target, detail FROM audit_log").fetchall()
    return json.dumps([list(row) for row in rows])


@pytest.mark.parametrize("settings_env", [{
    **{f.key: f"{MARKER}-{f.key}" for f in PROVIDER_ENV if f.secret},
    "OPENAI_BASE_URL": f"http://user:{MARKER}@127.0.0.1:9/v1", "AGENTSTAGE_MODEL": "gpt-4.1",
    "AZURE_OPENAI_ENDPOINT": "https://example.openai.azure.com"}])
def test_provider_env_never_shows_a_secret_in_answers_or_audit(served) -> None:
    client, keys, system = served
    answer = client.simulate_get(ENV, headers=keys.headers("viewer"))
    assert answer.status_code == 200 and MARKER not in answer.text
    body = answer.json
    secrets = {f.key for f in PROVIDER_ENV if f.secret}
    assert {"GEMINI_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OLLAMA_API_KEY", "AZURE_OPENAI_API_KEY",
            "AZURE_OPENAI_AD_TOKEN"} <= secrets
    assert all(body["configured"][key] for key in secrets) and not secrets & set(body["values"])
    assert body["values"]["AGENTSTAGE_MODEL"] == "gpt-4.1"
    assert body["values"]["OPENAI_BASE_URL"] == "http://127.0.0.1:9/v1"
    assert body["values"]["AZURE_OPENAI_ENDPOINT"] == "https://example.openai.azure.com"
    assert body["configured"]["GEMINI_MODEL"] is False and body["values"]["GEMINI_MODEL"] == ""
    assert body["keys"] == sorted(f.key for f in PROVIDER_ENV) and len(body["fields"]) == len(PROVIDER_ENV) >= 17
    assert {"key": "OPENAI_API_KEY", "secret": True, "read": True} in body["fields"]
    refused = client.simulate_put(ENV, json={"values": {"OPENAI_API_KEY": MARKER}}, headers=keys.headers("admin"))
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET"
    assert ".env" in refused.json["description"] and MARKER not in refused.text
    assert client.simulate_put(ENV, json={}, headers=keys.headers("viewer")).status_code == 403
    models = client.simulate_get(MODELS, params={"provider": "anthropic"}, headers=keys.headers("operator"))
    assert models.status_code == 200 and MARKER not in models.text
    # NOTE: denied and rejected requests are audited off the request path; wait for the row
    deadline = time.monotonic() + 10
    while "request.rejected" not in audit_text(system) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "request.rejected" in audit_text(system)
    assert MARKER not in audit_text(system)


def test_without_credentials_the_models_are_the_fallback_list_and_no_server_is_asked(config) -> None:
    with LocalHTTP() as server:
        server.routes["/v1/models"] = (200, {"data": [{"id": "never-listed"}]})
        env = {"ANTHROPIC_BASE_URL": server.url, "GEMINI_BASE_URL": f"{server.url}/v1beta"}
        settings = dataclasses.replace(config, env=env)
        with System(settings, providers={"default": ScriptedProvider()}) as system:
            app = create_app(system)
            client, keys = testing.TestClient(app), issue_keys(system)
            for provider, first in (("openai", "gpt-4.1"), ("gemini", "gemini-2.0-flash"),
                                    ("anthropic", "claude-3-5-haiku-latest"), ("azureopenai", "gpt-4.1"),
                                    ("ollama", "llama3.1")):
                body = client.simulate_get(MODELS, params={"provider": provider},
                                           headers=keys.headers("operator")).json
                assert body["source"] == "fallback" and "error" not in body, body
                assert first in body["models"] and body["models"] == sorted(set(body["models"]))
                assert body["modelKey"] == "AGENTSTAGE_MODEL"
                assert body["current"] in body["models"] if provider != "azureopenai" else body["current"] == ""
            assert client.simulate_get(MODELS, headers=keys.headers("viewer")).status_code == 403
            app.backend.close()
        assert server.requests == []


@pytest.mark.parametrize("provider", ["bedrock", "../etc"])
def test_an_unknown_provider_is_a_422_naming_provider(served, provider) -> None:
    client, keys, _ = served
    answer = client.simulate_get(MODELS, params={"provider": provider}, headers=keys.headers("operator"))
    assert answer.status_code == 422 and "provider" in answer.json["errors"]


def test_a_configured_openai_compatible_server_is_asked_for_its_models(config) -> None:
    with LocalHTTP() as server:
        server.routes["/v1/models"] = (200, {"object": "list", "data": [
            {"id": "local-b"}, {"id": "local-a"}, {"id": "local-b"}, {"id": ""}]})
        env = {"OPENAI_BASE_URL": f"{server.url}/v1", "OPENAI_API_KEY": MARKER}
        settings = dataclasses.replace(config.replace(model="chosen-model"), env=env)
        with System(settings, providers={"default": ScriptedProvider()}) as system:
            app = create_app(system)
            client, keys = testing.TestClient(app), issue_keys(system)
            body = client.simulate_get(MODELS, params={"provider": "openai"}, headers=keys.headers("operator")).json
            app.backend.close()
    assert body == {"provider": "openai", "modelKey": "AGENTSTAGE_MODEL", "current": "chosen-model",
                    "models": ["chosen-model", "local-a", "local-b"], "source": "api"}
    assert [(r["method"], r["path"]) for r in server.requests] == [("GET", "/v1/models")]
    assert server.requests[0]["headers"]["Authorization"] == f"Bearer {MARKER}"
