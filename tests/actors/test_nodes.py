"""Node actors answer every NodeInput with a NodeOutput, errors included; futures forward their outcome."""

from __future__ import annotations

import queue
import threading
from typing import Any

import pytest

from agentstage.runtime.aio import IOLoop
from agentstage.actors.nodes import ForwardingFuture, NodeInput, NodeOutput, RouterNodeActor, ToolNodeActor
from agentstage.actors.supervision import Slot
from agentstage.runtime.graph import RouterNode, ToolNode
from agentstage.runtime.tools.registry import Tool, ToolRegistry


class Inbox:
    """Where node actors send their answers (stands in for a graph actor's mailbox)."""

    def __init__(self) -> None:
        self.messages: queue.Queue[Any] = queue.Queue()

    def tell(self, message: Any) -> None:
        self.messages.put(message)

    def get(self) -> Any:
        return self.messages.get(timeout=10)


def test_forwarding_future_tells_its_target_once_settled() -> None:
    inbox = Inbox()
    future = ForwardingFuture(inbox, lambda value, error: (value, None if error is None else str(error)))
    future.set(7)
    assert inbox.get() == (7, None) and future.get(timeout=1) == 7
    failing = ForwardingFuture(inbox, lambda value, error: (value, str(error)))
    failing.set_exception(exc_info=(ValueError, ValueError("boom"), None))
    assert inbox.get() == (None, "boom")
    with pytest.raises(ValueError):
        failing.get(timeout=1)


def test_tool_node_reports_results_and_errors() -> None:
    tools = ToolRegistry([Tool("half", "value / 2", {"type": "object", "properties": {"value": {"type": "integer"}}},
                               lambda value: value / 2 if value else 1 / value)])
    slot = Slot("tools", lambda slot: ToolNodeActor.start(tools, None, slot))
    inbox = Inbox()
    try:
        for state in ({"n": 4}, {"n": 0}, {}):
            slot.tell(NodeInput("r", "s", 1, ToolNode("t", "half", args_from={"value": "n"}), state, inbox))
        slot.tell(NodeInput("r", "s", 1, ToolNode("u", "missing"), {}, inbox))
        answers = sorted((inbox.get() for _ in range(4)), key=lambda out: (out.node, out.error or ""))
    finally:
        slot.stop()
    assert answers[0] == NodeOutput("r", 1, "t", {"t": 2.0}, data={"tool": "half", "replayed": False})
    assert answers[1].error == "ZeroDivisionError: division by zero"
    assert answers[2].error == "state has no key 'n' for argument 'value'"
    assert answers[3].error == "unknown tool 'missing'"


def test_router_node_names_the_next_node_or_the_error() -> None:
    slot = Slot("router", lambda slot: RouterNodeActor.start(slot))
    inbox = Inbox()
    router = RouterNode("r", {"big": "b"}, "small", func=lambda state: "big" if state["n"] > 1 else "tiny")
    try:
        slot.tell(NodeInput("run", "s", 2, router, {"n": 5}, inbox))
        slot.tell(NodeInput("run", "s", 2, router, {}, inbox))
        routed, failed = inbox.get(), inbox.get()
    finally:
        slot.stop()
    assert (routed.next, routed.data) == ("b", {"route": "big"})
    assert failed.error == "KeyError: 'n'" and failed.next is None


def test_a_forwarded_outcome_to_a_stopped_actor_is_dropped_quietly() -> None:
    slot = Slot("gone", lambda slot: RouterNodeActor.start(slot))
    slot.stop()
    future = ForwardingFuture(slot, lambda value, error: value)
    future.set(1)
    assert future.get(timeout=1) == 1


def test_a_hung_tool_times_out_and_the_next_call_still_runs() -> None:
    release = threading.Event()
    tools = ToolRegistry([Tool("hang", "waits", {"type": "object"}, lambda: release.wait(30)),
                          Tool("ok", "answers", {"type": "object"}, lambda: "fine")])
    io = IOLoop().start()
    slot = Slot("tools", lambda slot: ToolNodeActor.start(tools, None, slot, None, 0.2, io))
    inbox = Inbox()
    try:
        slot.tell(NodeInput("r", "s", 1, ToolNode("h", "hang"), {}, inbox))
        slot.tell(NodeInput("r", "s", 2, ToolNode("k", "ok"), {}, inbox))
        hung, fine = sorted((inbox.get(), inbox.get()), key=lambda out: out.node)
    finally:
        release.set()
        slot.stop()
        io.stop()
    assert hung.error == "tool hang timed out after 0.2s"
    assert fine.update == {"k": "fine"}
