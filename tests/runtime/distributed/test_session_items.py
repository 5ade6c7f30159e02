"""Per-session tool state on workers: kept by the coordinator in its store, the same rows embedded runs use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentstage.runtime import System
from agentstage.runtime.distributed.node import WorkerNode, WorkerSetup
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.distributed.session_items import CoordinatorSessionItems
from agentstage.runtime.errors import StoreError
from agentstage.runtime.streams import StreamLayout
from agentstage.runtime.transport import MemoryTransport
from agentstage.runtime.wire import SessionRequest, to_wire
from agentstage.runtime.workflow.builtin import SUMMARY_MEMORY_KEY
from tests.runtime.distributed.harness import coordinator, distributed_config, peek

_NOWHERE = "redis://127.0.0.1:9/0"


@pytest.fixture
def transport() -> MemoryTransport:
    return MemoryTransport()


@pytest.fixture
def config(tmp_path):
    return distributed_config(tmp_path, _NOWHERE)


@pytest.fixture
def items(config, transport) -> CoordinatorSessionItems:
    return CoordinatorSessionItems(transport, StreamLayout(config.stream_prefix), wait=10.0)


def _stored(config, session: str, namespace: str = "memory") -> dict:
    return peek(config, lambda db: {r[0]: r[1] for r in db.connection.execute(
        "SELECT key, value FROM session_items WHERE session_id = ? AND namespace = ?", (session, namespace))}) or {}


def test_a_write_is_committed_by_the_coordinator_before_it_returns_and_reads_see_it(config, transport, items) -> None:
    with coordinator(config, transport):
        items.put("s1", "memory", {"name": ("Ada", None), "tea": ("green", "2999-01-01T00:00:00.000Z")})
        assert _stored(config, "s1") == {"name": '"Ada"', "tea": '"green"'}
        assert items.items("s1", "memory") == {"name": ("Ada", None), "tea": ("green", "2999-01-01T00:00:00.000Z")}
        items.put("s1", "memory", {"name": None})
        assert items.items("s1", "memory") == {"tea": ("green", "2999-01-01T00:00:00.000Z")}
        assert items.items("s2", "memory") == {} and items.items("s1", "todo") == {}


def test_what_an_embedded_system_stored_is_read_on_the_worker_side(config, transport, items) -> None:
    with System(config) as system:
        system.run("remember", session="embedded")
        system.tool_context.items.put("embedded", "memory", {"plan": ("ship it", None)})
    with coordinator(config, transport):
        assert items.items("embedded", "memory") == {"plan": ("ship it", None)}


def test_a_malformed_write_is_refused_with_the_reason_and_the_coordinator_keeps_serving(config, transport,
                                                                                     items) -> None:
    layout = StreamLayout(config.stream_prefix)
    with coordinator(config, transport):
        transport.append(layout.control, to_wire(SessionRequest("s1", "memory", "bad", {"k": "not a pair"})))
        items.put("s1", "memory", {"ok": (1, None)})
        assert items.items("s1", "memory") == {"ok": (1, None)}
        assert b"expected [value, expires_at] or null" in transport.get(layout.reply_key("bad"))


def test_without_a_coordinator_the_call_fails_with_a_store_error(config, transport) -> None:
    lonely = CoordinatorSessionItems(transport, StreamLayout(config.stream_prefix), wait=0.3)
    with pytest.raises(StoreError, match="no coordinator answered the session store within 0.3s"):
        lonely.items("s1", "memory")


@pytest.fixture
def default_worker(config, transport) -> Iterator[WorkerNode]:
    node = WorkerNode(config, "w1", None, WorkerSetup(), transport=transport).start()
    assert node.wait_ready()
    try:
        yield node
    finally:
        node.stop()


def test_summary_memory_on_a_worker_carries_the_summary_to_the_sessions_next_run(config, transport,
                                                                                 default_worker) -> None:
    with coordinator(config, transport), RuntimeOps(config, transport) as ops:
        first = ops.enqueue("my name is Ada", mode="graph", workflow="summary-memory", session="s1")["run_id"]
        assert ops.wait(first, 30)["status"] == "completed"
        summary = peek(config, lambda db: db.checkpoint(first)["state"]["memory_summary"])
        assert _stored(config, "s1") == {SUMMARY_MEMORY_KEY: f'"{summary}"'}
        second = ops.enqueue("what is my name?", mode="graph", workflow="summary-memory", session="s1")["run_id"]
        assert ops.wait(second, 30)["status"] == "completed"
        recalled = peek(config, lambda db: db.checkpoint(second)["state"]["recalled"])
    assert recalled == {"key": SUMMARY_MEMORY_KEY, "found": True, "value": summary}
