"""The embedding API: run, run_async, sessions, subscriptions, errors, clean stop."""

import asyncio
import gc

import pykka
import pytest

from agentstage.runtime import AgentSpec, Config, System
from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import ConfigError, NotApplicable, NotFound, RunAborted, StoreError
from agentstage.runtime.state import Event


def test_run_returns_a_durable_result(system: System) -> None:
    result = system.run("calculate 1 + 2")
    row = system.get_run(result.run_id)
    assert (result.status, result.output) == ("completed", "1 + 2 = 3")
    assert (row.status, row.output, row.total_tokens) == ("completed", "1 + 2 = 3", result.usage.total_tokens)
    assert len(system.events(result.run_id)) == len(result.events)


def test_session_history_is_carried_across_runs(system: System) -> None:
    first = system.run("hello", session="chat")
    system.run("calculate 2 + 2", session="chat")
    third = system.run_async("what did I say?", session="chat")
    third.result(10)
    history = system.reader().session_history("chat")
    assert [m.content for m in history][:2] == ["hello", first.output]
    assert len(history) == 6


def test_many_concurrent_runs_all_complete(system: System) -> None:
    handles = [system.run_async(f"calculate {i} + 1") for i in range(200)]
    outputs = [h.result(30).output for h in handles]
    assert outputs == [f"{i} + 1 = {i + 1}" for i in range(200)]
    assert system.list_runs(status="completed", limit=500).items.__len__() == 200


def test_runs_awaited_on_an_event_loop_all_complete(system: System) -> None:
    async def run_all() -> list[str]:
        handles = [system.run_async(f"calculate {i} + 1") for i in range(200)]
        return [result.output for result in await asyncio.gather(*(h.result_async(30) for h in handles))]

    assert asyncio.run(run_all()) == [f"{i} + 1 = {i + 1}" for i in range(200)]


def test_subscription_follows_a_run_live(system: System) -> None:
    run_id = "watched"
    with system.subscribe(run_id) as feed:
        system.run("calculate 3 * 3", run_id=run_id)
        seen = []
        while not seen or seen[-1] != "run.completed":
            event = feed.get(timeout=5)
            assert event is not None
            seen.append(event.type)
    assert seen[0] == "run.started" and "tool.result" in seen


def test_bad_calls_raise_clear_errors(system: System) -> None:
    with pytest.raises(RunAborted, match="empty"):
        system.run("   ")
    with pytest.raises(NotFound, match="unknown agent: ghost"):
        system.run("hi", agent="ghost")
    with pytest.raises(NotFound):
        system.get_run("missing")


def test_unknown_provider_or_tool_fails_at_start(config: Config) -> None:
    with pytest.raises(ConfigError, match="unknown provider"):
        System(config.replace(provider="nope")).start()
    with pytest.raises(ConfigError, match="unknown tool"):
        System(config.replace(tools="calculator,teleport")).start()
    assert not pykka.ActorRegistry.get_all()


def test_a_state_file_that_is_not_sqlite_is_refused(config: Config, tmp_path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(StoreError, match="not a SQLite database"):
        System(config.replace(db_path=str(bad))).start()


def test_stop_waits_for_runs_in_flight_to_be_recorded(config: Config) -> None:
    system = System(config).start()
    handles = [system.run_async("calculate 1+1") for _ in range(50)]
    system.stop()
    assert all(h.result(1).status == "completed" for h in handles)
    with System(config) as again:
        assert len(again.list_runs(limit=100).items) == 50


def test_closing_a_subscription_after_stop_is_harmless(config: Config) -> None:
    system = System(config).start()
    feed = system.subscribe()
    system.stop()
    feed.close()


def test_a_system_that_executes_nothing_starts_no_agent_pool_and_says_where_runs_go(config: Config) -> None:
    with System(config, executes=False) as system:
        assert system._pools == {} and system.graphs is None
        assert "default" in {spec.name for spec in system.agents()} and "secops" in system.workflows.names()
        with pytest.raises(NotApplicable, match="execute on the workers"):
            system.run_async("hello")
        with pytest.raises(NotApplicable, match="execute on the workers"):
            system.graph_run_async("secops", "hello")
        system.add_agent(AgentSpec.from_config(config, name="late"))
        assert system._pools == {} and "late" in {spec.name for spec in system.agents()}
        system.write([Event("stored", 1, "run.queued", utc_now(), "s", {"input": "x", "agent": "default"})])
        assert system.get_run("stored").status == "queued"


@pytest.mark.usefixtures("interpreter_gc")
def test_a_started_system_collects_garbage_less_often_unless_told_not_to(config: Config) -> None:
    with System(config.replace(gc_threshold=0)):
        assert gc.get_threshold()[0] == 700
    with System(config):
        assert gc.get_threshold()[0] == config.gc_threshold == 50_000
