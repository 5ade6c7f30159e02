"""`agentstage run` as a real process: Ctrl-C while the model is thinking."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agentstage.runtime import Config, System
from agentstage.runtime.cli import build_parser
from agentstage.runtime.commands.common import config_from_args
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
