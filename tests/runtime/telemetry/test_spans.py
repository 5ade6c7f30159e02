"""Spans from stored events: pairing, parenting, GenAI names and attributes, errors, and stable ids."""

from __future__ import annotations

from typing import Any

from agentstage.runtime.state.reader import RunRow
from agentstage.runtime.state.records import Event
from agentstage.runtime.telemetry.spans import TraceLink, child_link, run_spans, span_id, trace_id


def row(run_id: str = "r1", **fields: Any) -> RunRow:
    base: dict[str, Any] = dict(run_id=run_id, session_id="s1", kind="agent", agent="alice", workflow=None,
                                provider="openai", model="gpt-4o-mini", status="completed", input="hi", output="ok",
                                error=None, input_tokens=30, output_tokens=5, attempt=1, worker_id=None,
                                parent_run_id=None, metadata={}, last_seq=0, created_at="2026-01-01T00:00:00.000Z",
                                started_at=None, updated_at="2026-01-01T00:00:00.000Z", ended_at=None)
    return RunRow(**{**base, **fields})


def ev(seq: int, type: str, ms: int, run_id: str = "r1", **fields: Any) -> Event:
    return Event(run_id, seq, type, f"2026-01-01T00:00:00.{ms:03d}Z", "s1", **fields)


AGENT_RUN = [
    ev(1, "run.started", 0, data={"input": "secret prompt"}),
    ev(2, "llm.request", 1, data={"iteration": 1}),
    ev(3, "llm.retry", 50, error="429 slow down", data={"attempt": 1, "delay_s": 0.5}),
    ev(4, "llm.response", 100, duration_ms=90.0, provider="openai",
       data={"model": "gpt-4o-mini-2024", "finish_reason": "tool_calls", "content": "secret answer",
             "usage": {"input_tokens": 10, "output_tokens": 2}}),
    ev(5, "tool.call", 101, tool="ask_bob", data={"tool_call_id": "c1", "arguments": {"task": "2+2"}}),
    ev(6, "tool.call", 101, tool="calculator", data={"tool_call_id": "c2", "arguments": {"expression": "1/0"}}),
    ev(7, "tool.result", 150, tool="calculator", duration_ms=40.0, error="division by zero",
       data={"tool_call_id": "c2", "status": "failed"}),
    ev(8, "tool.result", 200, tool="ask_bob", duration_ms=99.0, data={"tool_call_id": "c1", "status": "completed"}),
    ev(9, "run.completed", 300, data={"output": "4"}),
]


def by_name(spans: list) -> dict[str, Any]:
    return {s.name: s for s in spans}


def test_an_agent_run_is_a_root_span_with_model_and_tool_calls_under_it() -> None:
    spans = run_spans(row(), AGENT_RUN, TraceLink(trace_id("r1")))
    named = by_name(spans)
    assert list(named) == ["invoke_agent alice", "chat gpt-4o-mini", "execute_tool ask_bob", "execute_tool calculator"]
    root, chat = named["invoke_agent alice"], named["chat gpt-4o-mini"]
    assert root.parent_id is None and {s.parent_id for s in spans[1:]} == {root.span_id}
    assert {s.trace_id for s in spans} == {trace_id("r1")}
    assert root.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert (root.attributes["gen_ai.agent.name"], root.attributes["gen_ai.conversation.id"]) == ("alice", "s1")
    assert (chat.kind, chat.attributes["gen_ai.operation.name"], chat.attributes["gen_ai.provider.name"]) == (
        "client", "chat", "openai")
    assert chat.attributes["gen_ai.response.model"] == "gpt-4o-mini-2024"
    assert chat.attributes["gen_ai.response.finish_reasons"] == ["tool_calls"]
    assert (chat.attributes["gen_ai.usage.input_tokens"], chat.attributes["gen_ai.usage.output_tokens"]) == (10, 2)
    assert [(e.name, e.attributes["error.message"]) for e in chat.events] == [("llm.retry", "429 slow down")]
    assert chat.end_ns - chat.start_ns == 99_000_000, "from the request to the response"
    assert root.end_ns - root.start_ns == 300_000_000


def test_a_failed_tool_call_is_an_error_span_and_the_other_is_not() -> None:
    named = by_name(run_spans(row(), AGENT_RUN, TraceLink(trace_id("r1"))))
    calc, bob = named["execute_tool calculator"], named["execute_tool ask_bob"]
    assert (calc.error, calc.attributes["gen_ai.tool.call.id"], calc.attributes["gen_ai.tool.type"]) == (
        "division by zero", "c2", "function")
    assert bob.error is None and named["invoke_agent alice"].error is None


def test_no_prompt_answer_or_argument_is_put_in_a_span() -> None:
    spans = run_spans(row(), AGENT_RUN, TraceLink(trace_id("r1")))
    text = repr([(s.attributes, [e.attributes for e in s.events]) for s in spans])
    assert "secret" not in text and "1/0" not in text and "2+2" not in text


def test_ids_are_stable_so_a_second_export_gives_the_same_spans() -> None:
    first = run_spans(row(), AGENT_RUN, TraceLink(trace_id("r1")))
    again = run_spans(row(), list(reversed(AGENT_RUN)), TraceLink(trace_id("r1")))
    assert [(s.span_id, s.parent_id, s.name) for s in first] == [(s.span_id, s.parent_id, s.name) for s in again]
    assert len({s.span_id for s in first}) == len(first)


def test_a_run_that_failed_mid_call_closes_the_open_spans_as_errors() -> None:
    events = [ev(1, "run.started", 0), ev(2, "llm.request", 5),
              ev(3, "run.failed", 80, error="interrupted: the process that ran it is gone")]
    root, chat = run_spans(row(status="failed"), events, TraceLink(trace_id("r1")))
    assert root.error == "interrupted: the process that ran it is gone" and root.attributes["error.type"] == "_OTHER"
    assert chat.error == "unfinished when the run was failed" and chat.end_ns == root.end_ns


def test_a_model_call_that_failed_is_an_error_with_its_type() -> None:
    events = [ev(1, "run.started", 0), ev(2, "llm.request", 1),
              ev(3, "llm.error", 9, error="401 bad key", data={"error_type": "AuthError"}),
              ev(4, "run.failed", 10, error="401 bad key")]
    _, chat = run_spans(row(status="failed"), events, TraceLink(trace_id("r1")))
    assert (chat.error, chat.attributes["error.type"]) == ("401 bad key", "AuthError")


def test_a_graph_run_has_node_spans_and_its_children_hang_under_their_node() -> None:
    graph = row("g1", kind="graph", agent=None, workflow="chain", provider=None, model=None)
    events = [ev(1, "run.started", 0, "g1"), ev(2, "checkpoint.saved", 1, "g1", node="__start__", data={"step": 0}),
              ev(3, "node.entered", 2, "g1", node="analyze", data={"step": 1, "kind": "agent"}),
              ev(4, "node.exited", 50, "g1", node="analyze", data={"step": 1, "child_run_id": "g1.1"}),
              ev(5, "node.entered", 51, "g1", node="plan", data={"step": 2, "kind": "agent"}),
              ev(6, "node.exited", 90, "g1", node="plan", data={"step": 2}),
              ev(7, "run.completed", 99, "g1")]
    spans = run_spans(graph, events, TraceLink(trace_id("g1")))
    root, analyze, plan = spans
    assert (root.name, root.attributes["gen_ai.operation.name"], root.attributes["gen_ai.workflow.name"]) == (
        "invoke_workflow chain", "invoke_workflow", "chain")
    assert (analyze.name, analyze.parent_id, analyze.attributes["agentstage.graph.step"]) == (
        "node analyze", root.span_id, 1)
    assert [e.name for e in root.events] == ["checkpoint.saved"]
    child = row("g1.1", parent_run_id="g1", metadata={"parent_run_id": "g1", "graph_node": "analyze", "graph_step": 1})
    assert child_link(child, events, trace_id("g1")).parent_span_id == analyze.span_id == span_id("g1", "node/3")
    assert plan.span_id == span_id("g1", "node/5")


def test_a_delegated_run_hangs_under_the_tool_call_that_asked_for_it() -> None:
    child = row("r1.bob.x", agent="bob", input="2+2", parent_run_id="r1")
    link = child_link(child, AGENT_RUN, trace_id("r1"))
    tool = by_name(run_spans(row(), AGENT_RUN, TraceLink(trace_id("r1"))))["execute_tool ask_bob"]
    assert (link.trace_id, link.parent_span_id) == (trace_id("r1"), tool.span_id)
    stranger = row("r1.eve.x", agent="eve", input="?", parent_run_id="r1")
    assert child_link(stranger, AGENT_RUN, trace_id("r1")).parent_span_id == span_id("r1", "run")
