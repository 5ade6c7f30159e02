"""Helpers of the API tests: keys, polling, starting runs through the API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from falcon import testing

from agentstage.runtime import System
from agentstage.runtime.errors import NotFound

GATE_PROMPT = "wait for the gate"
LOGIN_TOKENS = tuple(f"one-time-login-token-{n:04d}" for n in range(20))


class Gate(threading.Event):
    """What the `gate` tool waits on; `entered` is set while a run is inside the tool."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()

    def pass_through(self) -> str:
        self.entered.set()
        return "opened" if self.wait(60) else "timed out"


@dataclass
class Keys:
    """Secrets of one key per role, plus an expired and a revoked admin key."""

    viewer: str
    operator: str
    admin: str
    expired: str
    revoked: str
    ids: dict[str, str]

    def headers(self, name: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, name)}"} if name else {}


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll until `condition()` is truthy (robust on a loaded machine); returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def start_run(client: testing.TestClient, keys: Keys, prompt: str = "calculate 2 + 3", **extra: Any) -> str:
    result = client.simulate_post("/api/v1/runs", json={"input": prompt, **extra}, headers=keys.headers("operator"))
    assert result.status_code == 202, result.json
    return result.json["run_id"]


def finished_run(client: testing.TestClient, keys: Keys, api_system: System, prompt: str = "calculate 2 + 3",
                 **extra: Any) -> str:
    run_id = start_run(client, keys, prompt, **extra)
    wait_for(lambda: status(api_system, run_id) == "completed")
    return run_id


def status(system: System, run_id: str) -> str | None:
    """A run's stored status, None while it is not stored yet."""
    try:
        return system.reader().get_run(run_id).status
    except NotFound:
        return None
