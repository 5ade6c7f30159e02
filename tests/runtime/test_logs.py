"""Log lines of CLI and service processes: human text on a terminal, flat JSON otherwise, no emoji."""

from __future__ import annotations

import json
import logging
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from agentstage.runtime.errors import ConfigError
from agentstage.runtime.logs import configure_logging

AGENTSTAGE = str(Path(sys.executable).parent / "agentstage")


@pytest.fixture(autouse=True)
def _restore_sinks() -> Iterator[None]:
    handlers = logging.getLogger().handlers[:]
    yield
    logger.remove()
    logger.add(sys.stderr)
    logger.disable("agentstage")
    logging.getLogger().handlers[:] = handlers


def test_text_lines_carry_time_level_message_and_run_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", log_format="text")
    logger.bind(run_id="r1", worker="w1").info("run started")
    line = capsys.readouterr().err
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} INFO    run started  run=r1 worker=w1\n", line), line


def test_json_lines_are_flat_and_ascii_free_of_icons(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", log_format="json")
    logger.bind(run_id="r1").warning("slow")
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert {k: first[k] for k in ("level", "message", "run_id")} == {"level": "WARNING", "message": "slow",
                                                                     "run_id": "r1"}
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exception"]
    assert "icon" not in first and all(ord(c) < 0x2000 for c in json.dumps(first, ensure_ascii=False))


def test_an_unknown_format_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="AGENTSTAGE_LOG_FORMAT"):
        configure_logging("INFO", log_format="yaml")


def _env(tmp_path: Path, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    env.update(AGENTSTAGE_HOME=str(tmp_path / "home"), AGENTSTAGE_REDIS_URL=redis_url,
               AGENTSTAGE_STREAM_PREFIX=f"logs{tmp_path.name[-8:]}")
    return env


def test_a_service_on_a_terminal_logs_text_lines(tmp_path: Path, redis_url: str) -> None:
    main, child = pty.openpty()
    process = subprocess.Popen([AGENTSTAGE, "runtime-start"], env=_env(tmp_path, redis_url), stdin=subprocess.DEVNULL,
                               stdout=child, stderr=child, close_fds=True)
    os.close(child)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"started" not in seen and time.monotonic() < deadline:
            if select.select([main], [], [], 0.5)[0]:
                seen += os.read(main, 65536)
    finally:
        process.terminate()
        process.wait(30)
        os.close(main)
    line = next(line for line in seen.decode().splitlines() if "started" in line)
    assert re.match(r"\d\d:\d\d:\d\d\.\d{3} INFO    CoordinatorNode started", re.sub(r"\x1b\[[0-9;]*m", "", line))


def test_a_service_not_on_a_terminal_logs_json_and_a_bad_format_is_one_line(tmp_path: Path, redis_url: str) -> None:
    bad = subprocess.run([AGENTSTAGE, "runtime-start", "--log-format", "yaml"], env=_env(tmp_path, redis_url),
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "AGENTSTAGE_LOG_FORMAT='yaml': expected one of auto, text, json" in bad.stderr
    process = subprocess.Popen([AGENTSTAGE, "runtime-start"], env=_env(tmp_path, redis_url),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    first = process.stderr.readline()
    process.terminate()
    process.communicate(timeout=30)
    assert json.loads(first)["message"].startswith("CoordinatorNode started")
