"""Provider selection: names, `auto` by credentials, missing credentials, the CLI's note on stderr."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agentstage.runtime import Config
from agentstage.runtime.cli import main
from agentstage.runtime.errors import ConfigError
from agentstage.runtime.llm.factory import AUTO_ORDER, PROVIDERS, create_provider, explain_choice, resolve_provider_name
from agentstage.runtime.llm.types import ChatMessage, LLMRequest

VENDOR_VARIABLES = [variable for _, variable in AUTO_ORDER]


def config(env: dict[str, str], **overrides: str) -> Config:
    return Config.from_env(env, dotenv=None, **overrides)


def test_every_vendor_is_registered() -> None:
    assert set(PROVIDERS) == {"openai", "azure", "anthropic", "gemini", "ollama", "scripted"}


@pytest.mark.parametrize("env, expected", [
    ({}, "scripted"),
    ({"GEMINI_API_KEY": "g", "ANTHROPIC_API_KEY": "a"}, "anthropic"),
    ({"OPENAI_API_KEY": "o", "ANTHROPIC_API_KEY": "a"}, "openai"),
    ({"AZURE_OPENAI_API_KEY": "z"}, "azure"),
    ({"OPENAI_API_KEY": ""}, "scripted"),
])
def test_auto_picks_the_first_vendor_with_credentials(env: dict, expected: str) -> None:
    assert resolve_provider_name(config(env)) == expected


def test_auto_explains_its_fallback_to_scripted() -> None:
    reason = explain_choice(config({}))
    assert all(variable in reason for variable in VENDOR_VARIABLES)
    assert explain_choice(config({"GEMINI_API_KEY": "secret-g"})) == "auto found GEMINI_API_KEY"


@pytest.mark.parametrize("provider, variable", [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY"),
                                                ("gemini", "GEMINI_API_KEY"), ("azure", "AZURE_OPENAI_API_KEY")])
def test_a_missing_key_is_a_config_error_naming_the_variable(provider: str, variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        create_provider(config({}, provider=provider))


def test_keys_never_show_in_the_provider_repr() -> None:
    made = create_provider(config({"ANTHROPIC_API_KEY": "sk-ant-secret"}))
    try:
        assert "secret" not in repr(made) and "secret" not in str(vars(made).get("model"))
    finally:
        made.close()


def test_unknown_provider_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="AGENTSTAGE_PROVIDER"):
        resolve_provider_name(config({}, provider="watson"))


def test_cli_says_why_it_uses_the_scripted_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for variable in VENDOR_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AGENTSTAGE_PROVIDER", "auto")
    assert main(["run", "--home", str(tmp_path / "home"), "--no-progress", "--", "hello"]) == 0
    err = capsys.readouterr().err
    assert "offline scripted provider (auto found none of OPENAI_API_KEY" in err


def test_cli_reports_a_missing_key_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    code = main(["run", "--home", str(tmp_path / "home"), "--provider", "openai", "--", "hello"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "OPENAI_API_KEY" in err


def test_timeouts_come_from_the_settings() -> None:
    made = create_provider(config({"GEMINI_API_KEY": "g"}, llm_timeout="42", llm_connect_timeout="3"))
    try:
        timeout = made.client.timeout
        assert (timeout.read, timeout.connect) == (42.0, 3.0)
    finally:
        made.close()


class _CountingServer(ThreadingHTTPServer):
    """An OpenAI-compatible server that answers after a pause and counts the connections open at once."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Answer)
        self.lock = threading.Lock()
        self.open = self.most = 0

    def process_request_thread(self, request, client_address) -> None:
        with self.lock:
            self.open += 1
            self.most = max(self.most, self.open)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.lock:
                self.open -= 1


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        threading.Event().wait(0.2)
        body = json.dumps({"id": "c", "object": "chat.completion", "model": "m", "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_provider_opens_at_most_the_configured_connections_and_the_other_calls_wait() -> None:
    server = _CountingServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    made = create_provider(config({"OPENAI_BASE_URL": f"http://127.0.0.1:{server.server_port}/v1"},
                                  provider="openai", model="m", llm_max_connections="3"))

    async def calls() -> list[str]:
        request = LLMRequest((ChatMessage("user", "hi"),))
        answers = await asyncio.gather(*(made.agenerate(request) for _ in range(9)))
        await made.aclose()
        return [answer.content for answer in answers]

    try:
        assert asyncio.run(calls()) == ["ok"] * 9
    finally:
        made.close()
        server.shutdown()
        server.server_close()
    assert server.most == 3


def test_a_connection_limit_below_one_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="AGENTSTAGE_LLM_MAX_CONNECTIONS"):
        create_provider(config({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, provider="openai",
                               llm_max_connections="0"))
