"""Helpers of the API tests: keys, polling, starting runs through the API."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from falcon import testing

from agentstage.api import rbac
from agentstage.api.auth import new_api_key
from agentstage.api.openapi import routed_operations
from agentstage.runtime import System
from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.errors import NotFound
from agentstage.runtime.graph.builder import Graph
from agentstage.runtime.graph.nodes import END, HumanNode, RouterNode, ToolNode
from agentstage.runtime.state import Event

GATE_PROMPT = "wait for the gate"
LOGIN_TOKENS = tuple(f"one-time-login-token-{n:04d}" for n in range(20))


def review_workflow() -> Graph:
    """calc -> approve (waits for input) -> decide: "yes" ends, anything else goes round again."""
    graph = Graph("review", description="compute, then ask a human", max_steps=20)
    graph.add(ToolNode("calc", "calculator", {"expression": "6 * 7"}, output_key="answer"),
              HumanNode("approve", prompt="ship it?", output_key="verdict"),
              RouterNode("decide", key="verdict", routes={"yes": END}, default="calc"))
    return graph.chain("calc", "approve", "decide").entry("calc")


def waiting_graph_run(client: testing.TestClient, keys: Keys, system: System) -> str:
    """A fresh run of the review workflow, paused at its human step."""
    run_id = start_run(client, keys, "review this", workflow="review")
    wait_for(lambda: status(system, run_id) == "waiting")
    return run_id


def failed_run(system: System) -> str:
    """A failed run of the default agent, as its events record it."""
    run_id, now = new_id(), utc_now()
    system.write([Event(run_id, 1, "run.started", now, new_id(), {"input": "calculate 1 + 1", "agent": "default"}),
                  Event(run_id, 2, "run.failed", now, "", error="boom")])
    return run_id


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


def issue_keys(system: System) -> Keys:
    """One key per role, an expired and a revoked admin key, stored in `system`."""
    records, secrets = [], {}
    for role in ("viewer", "operator", "admin"):
        record, secrets[role] = new_api_key(role, f"{role} key")
        records.append(record)
    expired, secrets["expired"] = new_api_key("admin", "expired key", timedelta(seconds=60))
    expired = replace(expired, expires_at="2000-01-01T00:00:00.000Z")
    revoked, secrets["revoked"] = new_api_key("admin", "revoked key")
    revoked = replace(revoked, revoked_at=utc_now())
    records += [expired, revoked]
    system.write(records)
    ids = {name: record.id for name, record in zip(("viewer", "operator", "admin", "expired", "revoked"), records)}
    return Keys(**secrets, ids=ids)


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


CALLERS = (None, "expired", "revoked", "viewer", "operator", "admin")


def expected_outcome(required: str, caller: str | None, allowed: str = "2xx") -> str:
    if required == rbac.PUBLIC:
        return allowed
    if caller in (None, "expired", "revoked"):
        return "401"
    return allowed if rbac.allows(caller, required) else "403"


def route_matrix(app, client, keys, values: dict[str, Any], bodies: dict, only: str = "",
                 skip: str | tuple[str, ...] = (), allowed: str = "2xx", queries: dict[str, str] | None = None,
                 answers: dict[str, str] | None = None) -> list[str]:
    """Call every routed operation (whose template contains `only`, none of `skip`) as every caller; returns
    the calls whose outcome is not the expected one.

    `values` maps a path parameter (or `template:parameter`) to its value; a callable gives a fresh one per call.
    `allowed` is what a caller whose role suffices gets (`409` for an operation the run-control mode lacks).
    `queries` maps a template to the query string its calls carry; `answers` maps `METHOD template` to what a
    caller whose role suffices gets instead of `allowed` (`405` for a method offered only to say it is not).
    """
    mismatches = []
    for method, template in routed_operations(app):
        skipped = (skip,) if isinstance(skip, str) and skip else skip
        if only not in template or any(part in template for part in skipped):
            continue
        path_of = lambda: re.sub(r"\{(\w+)(?::\w+)?\}",  # noqa: E731
                                 lambda m: _value(values, template, m.group(1)), template)
        query = "timeout=0.3" if template.endswith("stream") or template.endswith("stream/events") else None
        query = (queries or {}).get(template, query)
        for caller in CALLERS:
            body = bodies[template]() if template in bodies else None
            path = path_of()
            result = client.simulate_request(method, path, query_string=query, json=body, headers=keys.headers(caller))
            expected = expected_outcome(rbac.required_role(method, template), caller,
                                        (answers or {}).get(f"{method} {template}", allowed))
            got = "2xx" if 200 <= result.status_code < 300 else str(result.status_code)
            if got != expected:
                mismatches.append(f"{method} {template} as {caller}: expected {expected}, "
                                  f"got {result.status_code} {result.text[:200]}")
    return mismatches


def _value(values: dict[str, Any], template: str, name: str) -> str:
    value = values.get(f"{template}:{name}", values.get(name))
    return str(value() if callable(value) else value)
