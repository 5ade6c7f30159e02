"""API fixtures: a System with a tool that waits on a gate, the app over it, and one key per kind."""

from __future__ import annotations

from collections.abc import Iterator

import falcon
import pytest
from falcon import testing

from agentstage.api import create_app
from agentstage.runtime import Config, System
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.llm.scripted import Rule, ScriptedProvider, default_rules
from agentstage.runtime.tools.registry import Tool
from tests.api.helpers import LOGIN_TOKENS, Gate, Keys, issue_keys, review_workflow


@pytest.fixture
def gate() -> Iterator[Gate]:
    """Runs prompted with GATE_PROMPT block in a tool call until the test opens the gate."""
    gate = Gate()
    yield gate
    gate.set()


@pytest.fixture
def api_system(config: Config, gate: Gate) -> Iterator[System]:
    tool = Tool("gate", "waits until the test opens the gate", {"type": "object", "properties": {}}, gate.pass_through)
    rules = [Rule("gate", r"\bwait for the gate\b", tool="gate", arguments={}), *default_rules()]
    settings = config.replace(tools="calculator,gate", sse_heartbeat="0.2", credential_env="DEPLOY_HOOK_TOKEN")
    system = System(settings, providers={"default": ScriptedProvider(rules)})
    system.tools.register(tool)
    with system:
        system.register_workflow("review", review_workflow())
        yield system
        gate.set()


@pytest.fixture
def ops(api_system: System, redis_url: str) -> Iterator[RuntimeOps]:
    """Operations of a distributed runtime on the suite's redis-server (key prefix `apitest`)."""
    with RuntimeOps(api_system.config.replace(redis_url=redis_url, stream_prefix="apitest")) as runtime_ops:
        yield runtime_ops


@pytest.fixture
def app(api_system: System) -> falcon.App:
    return create_app(api_system, login_tokens=LOGIN_TOKENS)


@pytest.fixture
def client(app: falcon.App) -> testing.TestClient:
    return testing.TestClient(app)


@pytest.fixture
def keys(api_system: System) -> Keys:
    return issue_keys(api_system)
