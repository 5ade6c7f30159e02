"""QueuedControl over a real coordinator and worker (subprocesses): start, answer, fork, cancel, requeue."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from agentstage.runtime import System
from agentstage.runtime.control import QueuedControl
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.errors import InvalidArgument, Refused
from tests.runtime.distributed.harness import Cluster, distributed_config, live_workers, peek, wait_for


@pytest.fixture
def control(tmp_path, redis_url) -> Iterator[QueuedControl]:
    cluster = Cluster(distributed_config(tmp_path, redis_url), tmp_path)
    cluster.coordinator()
    cluster.worker("w1")
    try:
        with System(cluster.config) as system, RuntimeOps(cluster.config) as ops:
            wait_for(lambda: live_workers(ops, "w1"))
            yield QueuedControl(system, ops)
    finally:
        cluster.stop()


def _status(control: QueuedControl, run_id: str, wanted: str) -> bool:
    row = peek(control.system.config, lambda db: db.get_run(run_id))
    return row is not None and row.status == wanted


def test_a_waiting_graph_run_is_answered_and_forked_on_a_worker(control) -> None:
    started = control.start("calculate", workflow="ask")
    assert started.status == "queued"
    assert control.wait(started.run_id, 60).status == "waiting", "a queued run not stored yet is waited for"
    with pytest.raises(InvalidArgument, match="waits for input"):
        control.resume(started.run_id)
    resumed = control.resume(started.run_id, "6 * 7")
    assert (resumed.run_id, resumed.status) == (started.run_id, "resumed")
    wait_for(lambda: _status(control, started.run_id, "completed"))
    reader = control.system.reader()
    assert json.loads(reader.get_run(started.run_id).output) == {"expression": "6 * 7", "result": 42}
    events = reader.events(started.run_id)
    after = [e.type for e in events][[e.type for e in events].index("run.waiting") + 1:]
    assert after[:3] == ["run.queued", "run.started", "run.resumed"] and after[-1] == "run.completed"
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    step = max(c["step"] for c in reader.checkpoints(started.run_id) if c["next_node"] == "solve")
    forked = control.fork(started.run_id, step, {"expression": "1 + 1"})
    assert forked.status == "forked" and forked.run_id != started.run_id
    fork = control.wait(forked.run_id, 60)
    assert json.loads(fork.output)["result"] == 2 and fork.metadata["forked_from"] == started.run_id
    assert reader.checkpoint(forked.run_id)["state"]["expression"] == "1 + 1"


def test_a_waiting_graph_run_is_cancelled_and_can_be_requeued(control) -> None:
    started = control.start("calculate", workflow="ask")
    wait_for(lambda: _status(control, started.run_id, "waiting"))
    assert control.cancel(started.run_id, "no answer").status == "cancelling"
    wait_for(lambda: _status(control, started.run_id, "cancelled"))
    with pytest.raises(Refused, match="already cancelled"):
        control.cancel(started.run_id)
    with pytest.raises(Refused, match="only waiting or failed"):
        control.resume(started.run_id, "1 + 1")
    assert control.requeue(started.run_id).status == "requeued"
    wait_for(lambda: _status(control, started.run_id, "waiting"))
    assert control.system.reader().get_run(started.run_id).attempt == 2
