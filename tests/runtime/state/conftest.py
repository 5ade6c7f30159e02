"""State fixtures: a Config per backend, and record builders shared by the state tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agentstage.runtime.config import Config
from agentstage.runtime.state.factory import StateBackend
from agentstage.runtime.state.records import Checkpoint, Event


def ts(second: int, minute: int = 0) -> str:
    return f"2026-01-01T00:{minute:02d}:{second:02d}.000Z"


def started(run_id: str, seq: int = 1, session: str = "s1", second: int = 0, **data: object) -> Event:
    return Event(run_id, seq, "run.started", ts(second), session,
                 {"input": f"q-{run_id}", "agent": "default", "kind": "agent", **data}, provider="scripted")


def completed(run_id: str, seq: int = 2, session: str = "s1", second: int = 1) -> Event:
    return Event(run_id, seq, "run.completed", ts(second), session, {"output": f"a-{run_id}"})


def checkpoint(run_id: str, step: int, state: dict | None = None) -> Checkpoint:
    return Checkpoint(run_id, step, f"n{step}", f"n{step + 1}", state or {"step": step}, ts(step))


def state_config(tmp_path: Path, kind: str, redis_url: str = "redis://127.0.0.1:1/0", **overrides: object) -> Config:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    return Config.from_env(env, dotenv=None, home=str(tmp_path / "home"), state=kind, redis_url=redis_url,
                           stream_prefix=f"t{os.getpid()}", **overrides)


@pytest.fixture(params=["sqlite", "redis", "hybrid"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateBackend]:
    """Each state backend in turn; Redis-backed ones use the suite's private redis-server."""
    url = request.getfixturevalue("redis_url") if request.param != "sqlite" else "redis://127.0.0.1:1/0"
    state = StateBackend(state_config(tmp_path, request.param, url))
    yield state
    state.close()


@pytest.fixture
def open_backend(tmp_path: Path) -> Iterator[Callable[..., StateBackend]]:
    """Open backends of a given kind on this test's files; all closed at the end."""
    opened: list[StateBackend] = []

    def make(kind: str, redis_url: str = "redis://127.0.0.1:1/0", **overrides: object) -> StateBackend:
        opened.append(StateBackend(state_config(tmp_path, kind, redis_url, **overrides)))
        return opened[-1]

    yield make
    for state in opened:
        state.close()
