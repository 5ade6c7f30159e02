"""Workers use the stored tool catalog as an embedded System does: a custom HTTP tool created through the
store is called by an agent on a worker, with the credential resolved from the worker's environment, and
a change to it reaches the running worker without a restart. Coordinator and worker share a MemoryTransport."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest

from agentstage.runtime import AgentSpec, System
from agentstage.runtime.distributed.node import WorkerNode, WorkerSetup
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.errors import ConfigError
from agentstage.runtime.llm.scripted import Rule, ScriptedProvider
from agentstage.runtime.transport import MemoryTransport
from tests.local_http import LocalHTTP
from tests.runtime.distributed.harness import coordinator, distributed_config, reader, wait_for

SECRET = "tok-31b0c2d9e8"
RULES = [Rule("send", r"send (.+)", tool="notify", arguments={"text": "{1}"})]


@pytest.fixture
def http() -> Iterator[LocalHTTP]:
    with LocalHTTP() as server:
        server.routes["/hook"] = (200, {"delivered": "first"})
        server.routes["/hook2"] = (200, {"delivered": "second"})
        yield server


@pytest.fixture
def config(tmp_path):
    settings = distributed_config(tmp_path, "redis://127.0.0.1:9/0", credential_env="HOOK_TOKEN")
    return dataclasses.replace(settings, env={**settings.env, "HOOK_TOKEN": SECRET})


def notify_spec(url: str) -> dict:
    return {"name": "notify", "url": url, "secretHeaders": {"Authorization": "env:HOOK_TOKEN"},
            "jsonSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}}


def notifier_worker(config, transport) -> WorkerNode:
    setup = WorkerSetup(agents=[AgentSpec.from_config(config, name="notifier", tools=("notify",), pool_size=1)],
                        providers={"notifier": ScriptedProvider(RULES)})
    node = WorkerNode(config, "w1", None, setup, transport=transport).start()
    assert node.wait_ready()
    return node


def tool_result(config, run_id: str) -> dict:
    return next(e for e in reader(config).events(run_id) if e.type == "tool.result").data


def test_a_stored_custom_tool_is_called_on_a_worker_and_a_change_reaches_it_live(config, http) -> None:
    transport = MemoryTransport()
    with System(config) as system:
        system.catalog.create_custom_tool(notify_spec(f"{http.url}/hook"))
    with coordinator(config, transport), RuntimeOps(config, transport) as ops:
        node = notifier_worker(config, transport)
        try:
            first = ops.enqueue("send disk is full", agent="notifier")["run_id"]
            assert ops.wait(first, 30)["status"] == "completed"
            serving = node.pools["notifier"]
            with System(config, executes=False) as system:
                system.catalog.update_custom_tool("notify", notify_spec(f"{http.url}/hook2"))
            wait_for(lambda: node.pools["notifier"] is not serving, timeout=30)
            assert node.catalog.catalog.custom_tools()[0]["url"].endswith("/hook2")
            second = ops.enqueue("send disk is still full", agent="notifier")["run_id"]
            assert ops.wait(second, 30)["status"] == "completed"
        finally:
            node.stop()
    assert tool_result(config, first)["result"]["body"] == {"delivered": "first"}
    assert tool_result(config, second)["result"]["body"] == {"delivered": "second"}
    assert [r["path"] for r in http.requests] == ["/hook", "/hook2"]
    assert {r["headers"]["Authorization"] for r in http.requests} == {SECRET}
    assert json.loads(http.requests[0]["body"]) == {"text": "disk is full"}
    stored = json.dumps([e.data for e in reader(config).events(first)])
    assert SECRET not in stored


def test_a_worker_whose_agent_names_a_tool_nobody_defined_exits_with_the_reason(config) -> None:
    transport = MemoryTransport()
    with coordinator(config, transport):
        with pytest.raises(ConfigError, match="agent 'notifier' asks for an unknown tool"):
            notifier_worker(config, transport)


def test_a_worker_started_without_a_coordinator_runs_its_built_in_tools(config) -> None:
    transport = MemoryTransport()
    node = WorkerNode(config, "w1", None, WorkerSetup(), transport=transport).start()
    try:
        assert node.wait_ready() and "default" in node.pools and node.catalog.version == ""
    finally:
        node.stop()


def test_a_tool_bound_to_a_workflow_is_offered_to_its_agent_nodes_on_the_worker(config, http) -> None:
    transport = MemoryTransport()
    with System(config) as system:
        system.catalog.create_custom_tool(notify_spec(f"{http.url}/hook"))
        system.catalog.bind("basic", "notify")
    setup = WorkerSetup(providers={"default": ScriptedProvider(RULES)})
    with coordinator(config, transport), RuntimeOps(config, transport) as ops:
        node = WorkerNode(config, "w1", None, setup, transport=transport).start()
        try:
            assert node.wait_ready()
            graph = ops.enqueue("send the report", mode="graph", workflow="basic")["run_id"]
            assert ops.wait(graph, 30)["status"] == "completed"
            plain = ops.enqueue("send the report")["run_id"]
            assert ops.wait(plain, 30)["status"] == "completed"
        finally:
            node.stop()
    [child] = [r for r in reader(config).list_runs(limit=10).items if r.parent_run_id == graph]
    assert child.agent == "default@basic" and tool_result(config, child.run_id)["status"] == "completed"
    assert [r["path"] for r in http.requests] == ["/hook"], "the agent outside the workflow has no such tool"
