"""When reconciliation runs: a coordinator on a MemoryTransport that restarts, and the workers' gate."""

from __future__ import annotations

import threading

from agentstage.runtime.wire import from_wire
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.distributed.reconciler import wait_until_reconciled
from agentstage.runtime.state.records import Event
from agentstage.runtime.state.sqlite import SQLiteWriter
from agentstage.runtime.streams import StreamLayout
from agentstage.runtime.transport import MemoryTransport
from tests.runtime.distributed.harness import coordinator, distributed_config, wait_for, worker

LAYOUT = StreamLayout("gate")


def test_the_gate_is_open_with_no_mark_or_the_running_instances_mark() -> None:
    transport, stop = MemoryTransport(), threading.Event()
    wait_until_reconciled(transport, LAYOUT, stop)
    transport.apply([("set", LAYOUT.reconciled, transport.server_id(), None)])
    wait_until_reconciled(transport, LAYOUT, stop)


def test_the_gate_holds_a_worker_until_the_restarted_instance_is_reconciled() -> None:
    transport, stop = MemoryTransport(), threading.Event()
    transport.apply([("set", LAYOUT.reconciled, transport.server_id(), None)])
    transport.restart()
    passed = threading.Event()
    waiter = threading.Thread(target=lambda: (wait_until_reconciled(transport, LAYOUT, stop), passed.set()))
    waiter.start()
    assert not passed.wait(0.5)
    transport.apply([("set", LAYOUT.reconciled, transport.server_id(), None)])
    assert passed.wait(5)
    waiter.join()


def test_the_gate_gives_way_to_a_stop() -> None:
    transport, stop = MemoryTransport(), threading.Event()
    transport.apply([("set", LAYOUT.reconciled, "another-instance", None)])
    stop.set()
    wait_until_reconciled(transport, LAYOUT, stop)


def test_a_coordinator_notices_a_restart_that_lost_everything_and_brings_ends_back(tmp_path) -> None:
    transport = MemoryTransport()
    config = distributed_config(tmp_path, "redis://127.0.0.1:9/0", reconcile_interval=0.2)
    with coordinator(config, transport), worker(config, "w1", transport=transport):
        with RuntimeOps(config, transport) as ops:
            run_id = ops.enqueue("what is 6 * 7")["run_id"]
            assert ops.wait(run_id, 30)["status"] == "completed"
            transport.restart(keep=False)
            assert wait_for(lambda: ops.outcome(run_id), timeout=30)["status"] == "completed"
            assert transport.get(StreamLayout(config.stream_prefix).reconciled) == transport.server_id().encode()
            after = ops.enqueue("what is 1 + 1")["run_id"]
            assert ops.wait(after, 30)["status"] == "completed"


def test_a_periodic_pass_requeues_a_run_that_redis_never_heard_of(tmp_path) -> None:
    transport = MemoryTransport()
    config = distributed_config(tmp_path, "redis://127.0.0.1:9/0", reconcile_interval=0.2)
    with coordinator(config, transport), worker(config, "w1", transport=transport):
        stale = "2020-01-01T00:00:00.000Z"
        writer = SQLiteWriter(config.state_path)
        writer.write([Event("forgotten", 1, "run.queued", stale, "s", {"input": "what is 2 + 3", "agent": "default",
                                                                        "attempt": 1, "kind": "agent"})])
        writer.close()
        with RuntimeOps(config, transport) as ops:
            outcome = wait_for(lambda: ops.outcome("forgotten"), timeout=30)
    assert (outcome["status"], outcome["output"]) == ("completed", "2 + 3 = 5")
    layout = StreamLayout(config.stream_prefix)
    requeues = [from_wire(fields[b"m"]) for _, fields in transport.entries(layout.control)]
    assert [m.run_id for m in requeues] == ["forgotten"]
