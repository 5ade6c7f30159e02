"""AGENTSTAGE_STATE selects the backend; System runs on each; bad settings fail clearly."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from agentstage.runtime import System
from agentstage.runtime.errors import ConfigError, StoreError
from agentstage.runtime.state.factory import StateBackend
from agentstage.runtime.state.hybrid import HybridWriter
from agentstage.runtime.state.hybrid_reader import HybridReader
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.redis_reader import RedisReader
from agentstage.runtime.state.redis_store import RedisWriter
from agentstage.runtime.state.sqlite import SQLiteWriter
from tests.runtime.state.conftest import state_config


def test_an_unknown_backend_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AGENTSTAGE_STATE"):
        StateBackend(state_config(tmp_path, "postgres"))


def test_each_backend_builds_its_writer_and_reader(tmp_path: Path, redis_url: str) -> None:
    kinds = {"sqlite": (SQLiteWriter, SQLiteReader), "redis": (RedisWriter, RedisReader),
             "hybrid": (HybridWriter, HybridReader)}
    for kind, (writer_type, reader_type) in kinds.items():
        backend = StateBackend(state_config(tmp_path, kind, redis_url))
        writer, reader = backend.writer(), backend.reader()
        assert (type(writer), type(reader)) == (writer_type, reader_type)
        reader.close()
        writer.close()
        backend.close()


def test_the_redis_backend_refuses_to_start_without_redis(tmp_path: Path) -> None:
    from tests.redis_server import free_port

    backend = StateBackend(state_config(tmp_path, "redis", f"redis://127.0.0.1:{free_port()}/0"))
    with pytest.raises(StoreError, match="redis unavailable"):
        backend.writer()
    backend.close()


@pytest.mark.parametrize("kind", ["redis", "hybrid"])
def test_a_system_runs_agents_on_a_redis_backed_state(tmp_path: Path, redis_url: str, kind: str) -> None:
    config = state_config(tmp_path, kind, redis_url, agent_pool_size=2)
    with System(config) as system:
        first = system.run("hello", session="chat")
        second = system.run("calculate 2 + 2", session="chat")
        assert system.get_run(second.run_id).status == "completed"
        assert [m.content for m in system.reader().session_history("chat")][:2] == ["hello", first.output]
        assert [e.seq for e in system.events(first.run_id)] == [e.seq for e in first.events]
        assert system.reader().health().status == "ok"
        if kind == "hybrid":
            deadline = time.monotonic() + 10
            while system.reader().health().details["hits"] == 0:
                assert time.monotonic() < deadline, "the Redis copy never landed"
                system.get_run(first.run_id)
                time.sleep(0.02)
            assert config.state_path.exists()
        else:
            assert not config.state_path.exists()


def test_the_runs_cli_reads_a_redis_only_state(tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from agentstage.runtime.cli import main
    from tests.runtime.state.conftest import completed, started

    config = state_config(tmp_path, "redis", redis_url)
    backend = StateBackend(config)
    writer = backend.writer()
    writer.write([started("r1"), completed("r1")])
    backend.close()
    monkeypatch.setenv("AGENTSTAGE_STATE", "redis")
    monkeypatch.setenv("AGENTSTAGE_REDIS_URL", redis_url)
    monkeypatch.setenv("AGENTSTAGE_STREAM_PREFIX", config.stream_prefix)
    assert main(["runs", "list", "--json", "--home", str(tmp_path / "home")]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == ["r1"]
    assert main(["runs", "show", "r1", "--json", "--home", str(tmp_path / "home")]) == 0
    assert json.loads(capsys.readouterr().out)["run"]["status"] == "completed"
