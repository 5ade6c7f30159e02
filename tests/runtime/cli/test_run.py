"""`agentstage run` as a real process: Ctrl-C while the model is thinking."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agentstage.runtime import Config, System
from agentstage.runtime.cli import build_parser
from agentstage.runtime.cli.common import config_from_args
from tests.local_http import LocalHTTP


def test_ctrl_c_during_a_run_stops_at_once_and_records_it_cancelled(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTSTAGE_", "OPENAI_"))}
    with LocalHTTP() as server:
        server.routes["/v1/chat/completions"] = (200, {"choices": []}, 60)
        env.update(AGENTSTAGE_HOME=str(home), AGENTSTAGE_PROVIDER="openai", OPENAI_BASE_URL=f"{server.url}/v1",
                   OPENAI_API_KEY="test", AGENTSTAGE_TOOLS="")
        process = subprocess.Popen([sys.executable, "-m", "agentstage.runtime.cli", "run", "--json", "--", "hello"],
                                   env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3000):
            if server.requests:
                break
            time.sleep(0.01)
        assert server.requests, "the run never reached the model"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "interrupted; stopping run" in stderr and "Traceback" not in stderr
    config = Config.from_env({}, dotenv=None, home=str(home))
    with System(config) as system:
        rows = system.list_runs().items
    assert [row.status for row in rows] == ["cancelled"]


def test_run_takes_tool_choice_and_output_cap_flags() -> None:
    args = build_parser().parse_args(["run", "--tool-choice", "required", "--max-output-tokens", "64", "--", "hi"])
    config = config_from_args(args)
    assert (config.tool_choice, config.max_output_tokens) == ("required", 64)


def _cut_answer_server() -> LocalHTTP:
    server = LocalHTTP()
    server.routes["/v1/chat/completions"] = (200, {
        "id": "c", "model": "m", "choices": [{"index": 0, "finish_reason": "length",
                                              "message": {"role": "assistant", "content": "It was a dark and"}}]})
    return server


def _openai_at(monkeypatch, server: LocalHTTP) -> None:
    monkeypatch.setenv("AGENTSTAGE_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setenv("AGENTSTAGE_TOOLS", "")


def test_an_answer_cut_by_the_token_limit_completes_with_a_warning_on_stderr(cli, monkeypatch) -> None:
    with _cut_answer_server() as server:
        _openai_at(monkeypatch, server)
        code, out, err = cli("run", "--", "write a long essay")
    assert code == 0 and out.strip() == "It was a dark and"
    assert "warning: the answer was cut by the output token limit" in err and "--max-output-tokens" in err


def test_json_says_truncated_and_that_the_server_reported_no_usage(cli, monkeypatch) -> None:
    with _cut_answer_server() as server:
        _openai_at(monkeypatch, server)
        code, out, err = cli("run", "--json", "--", "write a long essay")
    answer = json.loads(out)
    assert code == 0 and answer["truncated"] is True and answer["error_type"] is None
    assert answer["usage"] == {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0, "unreported_calls": 1}
    assert "warning" not in err


def test_json_names_the_error_type_of_a_failed_run(cli, monkeypatch) -> None:
    with LocalHTTP() as server:
        server.routes["/v1/chat/completions"] = (401, {"error": {"message": "bad key", "type": "auth"}})
        _openai_at(monkeypatch, server)
        code, out, _ = cli("run", "--json", "--", "hello")
    answer = json.loads(out)
    assert code == 1 and answer["status"] == "failed" and answer["error_type"] == "FatalError"
