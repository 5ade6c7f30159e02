"""Worker nodes as full citizens: an agent that delegates or hands off on a worker gives the same runs,
links and tokens as embedded (`tests/runtime/system/test_delegation.py`), recorded by the coordinator."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from agentstage.runtime import AgentSpec
from agentstage.runtime.distributed.node import WorkerNode, WorkerSetup
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.errors import ConfigError
from agentstage.runtime.llm.types import LLMResponse, Usage
from agentstage.runtime.transport import MemoryTransport
from tests.queued_provider import QueuedProvider
from tests.runtime.distributed.harness import coordinator, distributed_config, reader
from tests.runtime.system.test_delegation import ask

_NOWHERE = "redis://127.0.0.1:9/0"


@pytest.fixture
def transport() -> MemoryTransport:
    return MemoryTransport()


@pytest.fixture
def config(tmp_path):
    return distributed_config(tmp_path, _NOWHERE)


def _worker(config, transport, alice, bob, **alice_spec) -> WorkerNode:
    setup = WorkerSetup(agents=[AgentSpec.from_config(config, name="alice", pool_size=1, **alice_spec),
                                AgentSpec.from_config(config, name="bob", pool_size=1)],
                        providers={"alice": alice, "bob": bob})
    node = WorkerNode(config, "w1", None, setup, transport=transport).start()
    assert node.wait_ready()
    return node


@pytest.fixture
def ops(config, transport) -> Iterator[RuntimeOps]:
    with coordinator(config, transport), RuntimeOps(config, transport) as found:
        yield found


def test_delegation_on_a_worker_records_the_child_run_linked_with_its_tokens_rolled_up(config, transport,
                                                                                      ops) -> None:
    alice = QueuedProvider(ask("ask_bob", "what is 2 + 2?"), LLMResponse(content="bob says 4", usage=Usage(20, 3)))
    bob = QueuedProvider(LLMResponse(content="4", usage=Usage(5, 1)))
    node = _worker(config, transport, alice, bob, delegates=("bob",))
    try:
        run_id = ops.enqueue("ask bob", agent="alice")["run_id"]
        outcome = ops.wait(run_id, 30)
    finally:
        node.stop()
    assert (outcome["status"], outcome["output"]) == ("completed", "bob says 4")
    db = reader(config)
    [child] = [r for r in db.list_runs(limit=10).items if r.parent_run_id == run_id]
    parent = db.get_run(run_id)
    assert (child.agent, child.status, child.output, child.worker_id) == ("bob", "completed", "4", "w1")
    assert child.run_id.startswith(f"{run_id}.bob.") and child.session_id != parent.session_id
    assert [e.seq for e in db.events(child.run_id)] == list(range(1, len(db.events(child.run_id)) + 1))
    assert (parent.input_tokens, parent.output_tokens) == (10 + 20 + 5, 2 + 3 + 1), "the child's tokens roll up"


def test_a_handoff_on_a_worker_ends_the_run_with_the_other_agents_answer(config, transport, ops) -> None:
    alice = QueuedProvider(ask("transfer_to_bob", "the customer wants a refund"))
    bob = QueuedProvider(LLMResponse(content="Refund issued."))
    node = _worker(config, transport, alice, bob, handoffs=("bob",))
    try:
        run_id = ops.enqueue("I want my money back", agent="alice")["run_id"]
        outcome = ops.wait(run_id, 30)
    finally:
        node.stop()
    assert (outcome["status"], outcome["output"]) == ("completed", "Refund issued.")
    answer = [e for e in reader(config).events(run_id) if e.type == "llm.response"][-1]
    assert answer.data["finish_reason"] == "handoff" and len(alice.requests) == 1


def test_a_worker_whose_agent_names_an_unknown_agent_does_not_start(config, transport) -> None:
    setup = WorkerSetup(agents=[AgentSpec.from_config(config, name="alice", delegates=("nobody",))])
    with pytest.raises(ConfigError, match="names an unknown agent"):
        WorkerNode(config, "w1", None, setup, transport=transport).start()


def _shape(spans) -> list[tuple[str, str]]:
    """Each span's name with its parent's name: the trace's tree, without ids or times."""
    names = {s.span: s.name for s in spans}
    return sorted((s.name, names.get(s.parent, "")) for s in spans)


def test_the_coordinator_exports_a_workers_delegation_as_the_same_trace_an_embedded_run_gives(tmp_path,
                                                                                             transport) -> None:
    from agentstage.runtime import System
    from tests.otlp_receiver import OtlpReceiver

    def providers() -> tuple[QueuedProvider, QueuedProvider]:
        return (QueuedProvider(ask("ask_bob", "what is 2 + 2?"), LLMResponse(content="bob says 4")),
                QueuedProvider(LLMResponse(content="4")))

    with OtlpReceiver() as receiver:
        config = distributed_config(tmp_path, _NOWHERE, otel="otlp", otel_endpoint=receiver.url)
        with coordinator(config, transport), RuntimeOps(config, transport) as ops:
            node = _worker(config, transport, *providers(), delegates=("bob",))
            try:
                run_id = ops.enqueue("ask bob", agent="alice")["run_id"]
                assert ops.wait(run_id, 30)["status"] == "completed"
                distributed = receiver.wait_for(lambda found: len({s.name for s in found} & {
                    "invoke_agent alice", "invoke_agent bob"}) == 2)
            finally:
                node.stop()
    with OtlpReceiver() as receiver:
        embedded_config = distributed_config(tmp_path / "embedded", _NOWHERE, otel="otlp", otel_endpoint=receiver.url)
        alice, bob = providers()
        agents = [AgentSpec.from_config(embedded_config, name="alice", pool_size=1, delegates=("bob",)),
                  AgentSpec.from_config(embedded_config, name="bob", pool_size=1)]
        with System(embedded_config, agents=agents, providers={"alice": alice, "bob": bob}) as system:
            system.run("ask bob", agent="alice")
            embedded = receiver.wait_for(lambda found: len({s.name for s in found} & {
                "invoke_agent alice", "invoke_agent bob"}) == 2)
    assert _shape(distributed) == _shape(embedded)
    assert ("invoke_agent bob", "execute_tool ask_bob") in _shape(distributed)
    root = next(s for s in distributed if s.name == "invoke_agent alice")
    assert root.attributes["agentstage.worker.id"] == "w1" and {s.trace for s in distributed} == {root.trace}


def _events_of_tree(db, root: str) -> list[list[tuple]]:
    """The events of `root` and of its child runs, in run order, as (type, tool, status, error); a queued
    run's admission (`run.queued`, which an embedded run has not) left out."""
    runs = sorted([root, *(r.run_id for r in db.list_runs(limit=50).items if r.parent_run_id == root)],
                  key=lambda run: (db.get_run(run).created_at, db.get_run(run).input))
    return [[(e.type, e.tool, e.data.get("status"), e.error) for e in db.events(run) if e.type != "run.queued"]
            for run in runs]


def test_a_handoff_chain_gives_the_same_events_on_a_worker_as_embedded(tmp_path, transport) -> None:
    from agentstage.runtime import System

    def providers() -> tuple[QueuedProvider, QueuedProvider]:
        return (QueuedProvider(ask("ask_bob", "check the order"), ask("transfer_to_bob", "issue the refund")),
                QueuedProvider(LLMResponse(content="order 7 is late", usage=Usage(3, 1)),
                               LLMResponse(content="Refund issued.", usage=Usage(4, 2))))

    config = distributed_config(tmp_path, _NOWHERE)
    with coordinator(config, transport), RuntimeOps(config, transport) as ops:
        node = _worker(config, transport, *providers(), delegates=("bob",), handoffs=("bob",))
        try:
            run_id = ops.enqueue("refund my late order", agent="alice")["run_id"]
            assert ops.wait(run_id, 30)["output"] == "Refund issued."
        finally:
            node.stop()
    on_worker = _events_of_tree(reader(config), run_id)
    embedded_config = distributed_config(tmp_path / "embedded", _NOWHERE)
    alice, bob = providers()
    agents = [AgentSpec.from_config(embedded_config, name="alice", pool_size=1, delegates=("bob",), handoffs=("bob",)),
              AgentSpec.from_config(embedded_config, name="bob", pool_size=1)]
    with System(embedded_config, agents=agents, providers={"alice": alice, "bob": bob}) as system:
        embedded_id = system.run("refund my late order", agent="alice").run_id
        embedded = _events_of_tree(system.reader(), embedded_id)
        parent = system.get_run(embedded_id)
    assert on_worker == embedded, (on_worker, embedded)
    assert len(embedded) == 3, "alice, and bob twice: the delegated question and the handoff"
    row = reader(config).get_run(run_id)
    assert (row.input_tokens, row.output_tokens) == (parent.input_tokens, parent.output_tokens)


@pytest.mark.usefixtures("interpreter_gc")
def test_coordinator_and_worker_processes_collect_garbage_less_often(config, transport) -> None:
    with coordinator(config.replace(gc_threshold=60_000), transport):
        assert gc.get_threshold()[0] == 60_000
    node = WorkerNode(config.replace(gc_threshold=80_000), "w1", None, WorkerSetup(), transport=transport).start()
    try:
        assert gc.get_threshold()[0] == 80_000
    finally:
        node.stop()
