"""Traces from a real System to a local OTLP receiver: one trace per root run, children under the span
that started them, errors marked, and a clear error when the exporter cannot be used."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from agentstage.runtime import AgentSpec, Config, System
from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import ConfigError
from agentstage.runtime.owner import RunOwner
from agentstage.runtime.state.records import Event
from agentstage.runtime.llm.types import LLMResponse, ToolCall, Usage
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.queued_provider import QueuedProvider

SPAN_KIND_CLIENT, STATUS_ERROR = 3, 2


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as started:
        yield started


@pytest.fixture
def traced(config: Config, receiver: OtlpReceiver) -> Config:
    return config.replace(otel="otlp", otel_endpoint=receiver.url)


def named(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    return {s.name: s for s in spans}


def has(*names: str):
    return lambda spans: set(names) <= {s.name for s in spans}


def test_a_delegation_is_one_trace_with_the_child_run_under_the_tool_call(traced: Config, receiver) -> None:
    alice = QueuedProvider(LLMResponse(tool_calls=(ToolCall("c1", "ask_bob", {"task": "what is 2 + 2?"}),
                                                   ToolCall("c2", "calculator", {"expression": "2 + 2"})),
                                       usage=Usage(10, 2)),
                           LLMResponse(content="bob says 4", usage=Usage(20, 3)))
    bob = QueuedProvider(LLMResponse(content="4", usage=Usage(5, 1)))
    agents = [AgentSpec.from_config(traced, name="alice", pool_size=1, delegates=("bob",), tools=("calculator",)),
              AgentSpec.from_config(traced, name="bob", pool_size=1)]
    with System(traced, agents=agents, providers={"alice": alice, "bob": bob}) as system:
        result = system.run("ask bob", agent="alice")
        spans = receiver.wait_for(has("invoke_agent alice", "invoke_agent bob", "execute_tool calculator"))
    by = named(spans)
    root, child, ask = by["invoke_agent alice"], by["invoke_agent bob"], by["execute_tool ask_bob"]
    assert root.parent == "" and root.attributes["agentstage.run.id"] == result.run_id
    assert {s.trace for s in spans} == {root.trace}, "the child run is in its caller's trace"
    assert ask.parent == root.span and child.parent == ask.span
    chats = [s for s in spans if s.name.startswith("chat")]
    assert len(chats) == 3 and all(s.kind == SPAN_KIND_CLIENT for s in chats)
    assert {s.parent for s in chats} == {root.span, child.span}
    assert (root.attributes["gen_ai.usage.input_tokens"], root.attributes["gen_ai.usage.output_tokens"]) == (35, 6)
    assert (root.service, root.scope) == ("agentstage", "agentstage")


def test_a_graph_run_has_node_spans_and_each_node_agent_run_hangs_under_its_node(traced: Config, receiver) -> None:
    with System(traced) as system:
        result = system.graph_run("chain", "hello")
        spans = receiver.wait_for(lambda found: sum(s.name == "invoke_agent default" for s in found) == 3
                                  and any(s.name == "invoke_workflow chain" for s in found))
    by = named(spans)
    root = by["invoke_workflow chain"]
    assert root.attributes["agentstage.run.id"] == result.run_id and root.attributes["gen_ai.workflow.name"] == "chain"
    nodes = {s.name: s for s in spans if s.name.startswith("node ")}
    assert set(nodes) == {"node analyze", "node plan", "node execute"}
    assert {s.parent for s in nodes.values()} == {root.span}
    agents = [s for s in spans if s.name == "invoke_agent default"]
    assert sorted(s.parent for s in agents) == sorted(s.span for s in nodes.values())
    assert {s.trace for s in spans} == {root.trace}


def test_a_failed_run_is_an_error_span_with_the_reason(traced: Config, receiver) -> None:
    failing = QueuedProvider()
    with System(traced, providers={"default": failing}) as system:
        result = system.run("hello")
        [root] = [s for s in receiver.wait_for(has("invoke_agent default")) if s.name == "invoke_agent default"]
    assert result.status == "failed"
    assert root.status_code == STATUS_ERROR and root.status_message == result.error


def test_a_run_left_running_by_a_dead_process_is_traced_when_the_next_system_marks_it(traced: Config,
                                                                                        receiver) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    owner = RunOwner(RunOwner.current().host, gone.pid, 0.0).to_data()
    with System(traced.replace(otel="")) as system:
        system.write([Event("ghost", 1, "run.started", utc_now(), "s", {"kind": "agent", "agent": "default",
                                                                        "owner": owner}),
                      Event("ghost", 2, "llm.request", utc_now(), "s", {"iteration": 1})])
    with System(traced):
        spans = receiver.wait_for(has("invoke_agent default", "chat"))
    root, chat = named(spans)["invoke_agent default"], named(spans)["chat"]
    assert root.attributes["agentstage.run.id"] == "ghost" and root.status_code == STATUS_ERROR
    assert chat.status_code == STATUS_ERROR and chat.status_message == "unfinished when the run was failed"


def test_an_unknown_exporter_or_a_missing_extra_is_a_config_error(config: Config, monkeypatch) -> None:
    with pytest.raises(ConfigError, match="AGENTSTAGE_OTEL='jaeger': the trace exporter is one of otlp"):
        System(config.replace(otel="jaeger")).start()
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    with pytest.raises(ConfigError, match=r"needs the otel extra: pip install 'agentstage\[otel\]'"):
        System(config.replace(otel="otlp")).start()


def test_without_the_setting_nothing_is_exported(config: Config, receiver) -> None:
    with System(config.replace(otel_endpoint=receiver.url)) as system:
        system.run("hello")
        assert system.telemetry is None
    assert receiver.requests == 0
