"""The secops workflow over a coordinator and workers (Redis Streams) gives the golden results."""

import json

from agentstage.runtime.distributed.node import CoordinatorNode, WorkerNode
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.state.reader import SQLiteReader
from tests.runtime.distributed.harness import distributed_config, live_workers, wait_for
from tests.runtime.secops import worker_app
from tests.runtime.secops.golden import GOLDEN, SAMPLE_NAMES, sample
from tests.runtime.secops.test_workflow import STATE_KEYS


def distributed_outcome(db: SQLiteReader, run_id: str, outcome: dict) -> dict:
    events = db.events(run_id)
    route = next(e.data["route"] for e in events if e.type == "node.exited" and e.node == "route")
    trace = [e.node for e in events if e.type == "node.exited"]
    state = db.checkpoint(run_id)["state"]
    children = list(db.connection.execute(
        "SELECT input, status FROM runs WHERE parent_run_id = ? ORDER BY created_at", (run_id,)))
    assert [status for _, status in children] == ["completed"]
    return {"status": outcome["status"], "route": route, "trace": trace,
            "state": {k: state[k] for k in STATE_KEYS if k in state}, "agent_prompt": children[0][0],
            "output": db.get_run(run_id).output}


def test_secops_over_workers_matches_the_in_process_golden_files(tmp_path, redis_url) -> None:
    config = distributed_config(tmp_path, redis_url)
    coordinator = CoordinatorNode(config).start()
    assert coordinator.wait_ready()
    worker = WorkerNode(config, "w1", 4, worker_app.setup()).start()
    try:
        assert worker.wait_ready()
        with RuntimeOps(config) as ops:
            wait_for(lambda: live_workers(ops, "w1"))
            runs = {name: ops.enqueue(sample(name), mode="graph", workflow="secops")["run_id"] for name in SAMPLE_NAMES}
            outcomes = {name: ops.wait(run_id, 60) for name, run_id in runs.items()}
    finally:
        worker.stop()
        coordinator.stop()
    db = SQLiteReader(config.state_path)
    try:
        for name, run_id in runs.items():
            assert outcomes[name] is not None and outcomes[name]["status"] == "completed", (name, outcomes[name])
            expected = json.loads((GOLDEN / f"{name}.workflow.json").read_text())
            assert distributed_outcome(db, run_id, outcomes[name]) == expected, name
            assert [(a["worker_id"], a["status"]) for a in db.attempts(run_id)] == [("w1", "completed")]
    finally:
        db.close()
