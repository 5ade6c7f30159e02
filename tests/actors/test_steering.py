"""The coordinator's steering of graph runs (resume with an answer, fork, refusals) with in-process nodes."""

from __future__ import annotations

import pytest

from agentstage.runtime.wire import Task
from agentstage.actors.steering import Steering
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.errors import Refused
from tests.runtime.distributed.harness import coordinator, distributed_config, peek, worker


def test_coordinator_answers_steering_requests_and_refuses_what_does_not_apply(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), worker(config), RuntimeOps(config) as ops:
        agent_run = ops.enqueue("what is 6 * 7")["run_id"]
        assert ops.wait(agent_run, 30)["status"] == "completed"
        with pytest.raises(Refused, match="not a graph run"):
            ops.resume(agent_run, "x", wait=10)
        graph = ops.enqueue("calculate", mode="graph", workflow="ask")["run_id"]
        assert ops.wait(graph, 30)["status"] == "waiting"
        with pytest.raises(Refused, match="a waiting run needs input"):
            ops.resume(graph, None, wait=10)
        with pytest.raises(Refused, match="unknown checkpoint"):
            ops.fork(graph, 99, wait=10)
        assert ops.resume(graph, "6 * 7", wait=10) == {"run_id": graph, "status": "resumed"}
        with pytest.raises(Refused, match="still queued or running|it is completed"):
            ops.resume(graph, "again", wait=10)
        assert ops.wait(graph, 30)["status"] == "completed"
        row = peek(config, lambda db: db.get_run(graph))
        assert row.attempt == 2 and row.output is not None and "42" in row.output
        step = max(c["step"] for c in peek(config, lambda db: db.checkpoints(graph)) if c["next_node"] == "solve")
        fork = ops.fork(graph, step, {"expression": "2 * 2"}, new_run_id="the-fork", wait=10)
        assert fork == {"run_id": "the-fork", "status": "forked"}
        assert ops.wait("the-fork", 30)["status"] == "completed"
        with pytest.raises(Refused, match="the-fork exists"):
            ops.fork(graph, step, new_run_id="the-fork", wait=10)


class _Reader:
    def __init__(self, attempts: list[int]) -> None:
        self.attempts = attempts

    def queue_events(self, task_id: str) -> list[dict]:
        return [{"attempt": a} for a in self.attempts]


def test_a_resumed_or_requeued_task_counts_its_own_tries():
    steering = Steering()
    steering.reader = lambda: _Reader([3, 4])
    assert steering._tries(Task("t2", "run", "s", "x", attempt=4)) == 2
    assert steering._tries(Task("run", "run", "s", "x", attempt=4)) == 4
