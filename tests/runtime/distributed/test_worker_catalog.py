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
from agentstage.runtime.graph import Graph
from agentstage.runtime.graph.nodes import ToolNode
from agentstage.runtime.llm.scripted import Rule, ScriptedProvider
from agentstage.runtime.transport import MemoryTransport
from agentstage.runtime.workflow import default_registry
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


def _lookup_and_remember() -> Graph:
    """Fetch with the stored custom HTTP tool, keep the answer in session memory, read it back."""
    return (Graph("lookup-and-remember")
            .add(ToolNode("fetch", "lookup", args_from={"q": "input"}, output_key="found"),
                 ToolNode("remember", "memory_store", {"operation": "set", "key": "last"},
                          args_from={"value": "input"}, output_key="stored"),
                 ToolNode("recall", "memory_store", {"operation": "get", "key": "last"}, output_key="recalled"))
            .chain("fetch", "remember", "recall").entry("fetch"))


def _without_headers(value):
    """State and event data without HTTP response headers (their Date differs between two runs)."""
    if isinstance(value, dict):
        return {k: _without_headers(v) for k, v in value.items() if k != "headers"}
    if isinstance(value, list):
        return [_without_headers(v) for v in value]
    return value


def _run_record(db, run_id: str) -> tuple[list, dict]:
    """The run's events after its admission (a queued run has `run.queued` first, an embedded one not),
    numbered from 1, without what names the process or attempt; and its final state."""
    events = [e for e in db.events(run_id) if e.type != "run.queued"]
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + len(events))), "no gaps"
    return ([(e.seq - events[0].seq + 1, e.type, e.node, e.tool,
              _without_headers({k: v for k, v in e.data.items() if k not in ("owner", "worker_id", "attempt")}))
             for e in events], _without_headers(db.checkpoint(run_id)["state"]))


def test_a_graph_run_with_a_custom_http_tool_and_a_memory_tool_is_the_same_embedded_and_on_a_worker(
        tmp_path, http) -> None:
    lookup = {"name": "lookup", "url": f"{http.url}/hook", "method": "GET",
              "jsonSchema": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}
    embedded_config = distributed_config(tmp_path / "embedded", "redis://127.0.0.1:9/0")
    with System(embedded_config) as system:
        system.catalog.create_custom_tool(lookup)
        system.register_workflow("lookup-and-remember", _lookup_and_remember())
        embedded = system.graph_run("lookup-and-remember", "order 7", session="s-1")
        embedded_record = _run_record(system.reader(), embedded.run_id)
    config = distributed_config(tmp_path / "queued", "redis://127.0.0.1:9/0")
    transport = MemoryTransport()
    with System(config) as system:
        system.catalog.create_custom_tool(lookup)
    workflows = default_registry()
    workflows.register("lookup-and-remember", _lookup_and_remember())
    with coordinator(config, transport), RuntimeOps(config, transport) as ops:
        node = WorkerNode(config, "w1", None, WorkerSetup(workflows=workflows), transport=transport).start()
        try:
            assert node.wait_ready()
            run_id = ops.enqueue("order 7", mode="graph", workflow="lookup-and-remember", session="s-1")["run_id"]
            assert ops.wait(run_id, 30)["status"] == "completed"
        finally:
            node.stop()
    queued_record = _run_record(reader(config), run_id)
    assert embedded.status == "completed" and embedded_record[1]["recalled"] == {"key": "last", "found": True,
                                                                                 "value": "order 7"}
    assert embedded_record[1]["found"]["body"] == {"delivered": "first"}
    assert [e[:4] for e in queued_record[0]] == [e[:4] for e in embedded_record[0]], "same events, same numbering"
    assert queued_record == embedded_record, (queued_record, embedded_record)
