"""Schedules fired by a coordinator process (`runtime-start`) with no API running: each due tick is queued once
and a worker process runs it."""

from __future__ import annotations

from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.schedules import new_schedule
from agentstage.runtime.state.schedules import fires
from agentstage.runtime.state.sqlite import SQLiteWriter
from tests.runtime.distributed.harness import Cluster, distributed_config, live_workers, reader, wait_for


def test_the_coordinator_fires_due_ticks_and_a_worker_runs_them(tmp_path, redis_url) -> None:
    config = distributed_config(tmp_path, redis_url)
    cluster = Cluster(config, tmp_path)
    try:
        cluster.coordinator()
        cluster.worker("w1", 2)
        with RuntimeOps(config) as ops:
            wait_for(lambda: live_workers(ops, "w1"))
        writer = SQLiteWriter(config.state_path)
        try:
            writer.write([new_schedule("tick", every_s=1.0, agent="tally", input="tally tick 0")])
        finally:
            writer.close()

        def completed() -> list[dict]:
            done = [f for f in fires(reader(config), "tick") if (f["run"] or {}).get("status") == "completed"]
            return done if len(done) >= 2 else []

        try:
            done = wait_for(completed, timeout=60)
        except AssertionError:
            raise AssertionError(cluster.log("coordinator")[-3000:] + str(fires(reader(config), "tick"))) from None
    finally:
        cluster.stop()
    history = fires(reader(config), "tick", limit=500)
    ticks = [f["tick"] for f in history]
    assert len(ticks) == len(set(ticks)) and all(f["trigger"] == "schedule" for f in history)
    assert len({f["run_id"] for f in history if f["run_id"]}) == len([f for f in history if f["run_id"]])
    assert {f["owner"].split(":")[0] for f in done} and cluster.tallies().count("tick") >= 2
