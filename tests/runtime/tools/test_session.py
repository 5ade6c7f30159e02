"""memory_store and todo_manager keep state per session in the store, through real runs."""

import json

import pytest

from agentstage.runtime import AgentSpec, Config, System
from agentstage.runtime.errors import ToolError
from agentstage.runtime.llm.scripted import Rule, ScriptedProvider
from agentstage.runtime.state.reader import SQLiteReader


def agent_system(config: Config) -> System:
    rules = [Rule("remember", r"remember (\w+) is (\w+)", tool="memory_store",
                  arguments={"operation": "set", "key": "{1}", "value": "{2}"}),
             Rule("recall", r"recall (\w+)", tool="memory_store", arguments={"operation": "get", "key": "{1}"}),
             Rule("spoof", r"spoof (\w+)", tool="memory_store",
                  arguments={"operation": "get", "key": "{1}", "_session_id": "other"}),
             Rule("todo", r"todo (.+)", tool="todo_manager", arguments={"operation": "add", "title": "{1}"})]
    spec = AgentSpec.from_config(config, name="mem", tools=("@memory",), pool_size=1)
    return System(config, agents=[spec], providers={"mem": ScriptedProvider(rules)})


def tool_results(system: System, run_id: str) -> list[dict]:
    return [e.data["result"] for e in system.events(run_id) if e.type == "tool.result"]


def test_memory_is_per_session_and_survives_a_restart(config) -> None:
    with agent_system(config) as system:
        system.run("remember colour is blue", agent="mem", session="s1")
        assert tool_results(system, system.run("recall colour", agent="mem", session="s1").run_id)[0]["value"] == "blue"
        assert tool_results(system, system.run("recall colour", agent="mem", session="s2").run_id)[0]["found"] is False
        spoofed = system.run("spoof colour", agent="mem", session="s1")
        assert tool_results(system, spoofed.run_id)[0]["value"] == "blue"
    with agent_system(config) as system:
        assert tool_results(system, system.run("recall colour", agent="mem", session="s1").run_id)[0]["value"] == "blue"
    reader = SQLiteReader(config.state_path)
    try:
        rows = list(reader.connection.execute("SELECT session_id, namespace, key, value FROM session_items"))
    finally:
        reader.close()
    assert rows == [("s1", "memory", "colour", json.dumps("blue"))]


def test_todo_manager_tracks_dependencies(system) -> None:
    todo = system.tools.get("todo_manager")
    call = lambda **a: todo({**a, "_session_id": "s1"})  # noqa: E731
    first = call(operation="add", title="build", priority="high")
    second = call(operation="add", title="ship", blocked_by=[first["id"]])
    assert second["ready"] is False
    call(operation="update", id=first["id"], status="done")
    listed = call(operation="list", ready_only=True)["items"]
    assert [i["title"] for i in listed] == ["ship"]
    assert todo({"operation": "list", "_session_id": "s2"})["count"] == 0
    call(operation="remove", id=second["id"])
    assert call(operation="clear")["cleared"] == 1


def test_memory_ttl_and_clear(system) -> None:
    memory = system.tools.get("memory_store")
    call = lambda **a: memory({**a, "_session_id": "s1"})  # noqa: E731
    call(operation="set", key="a", value={"n": 1})
    call(operation="set", key="b", value="x", ttl_seconds=3600)
    assert call(operation="search", query="x")["matches"] == {"b": "x"}
    assert call(operation="list")["keys"] == ["a", "b"]
    assert call(operation="clear")["cleared"] == 2
    assert call(operation="list")["count"] == 0


def test_expired_memory_is_not_returned(system) -> None:
    from agentstage.runtime.state.records import SessionItem

    system.write([SessionItem("s1", "memory", "old", "gone", "2020-01-01T00:00:00.000Z", "2020-01-02T00:00:00.000Z")])
    memory = system.tools.get("memory_store")
    assert memory({"operation": "get", "key": "old", "_session_id": "s1"})["found"] is False
    with pytest.raises(ToolError, match="outside a run"):
        memory({"operation": "list"})
