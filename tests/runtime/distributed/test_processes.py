"""The distributed runtime as real processes: a coordinator and workers started with the CLI verbs.

Faults are real too: workers are `kill -9`ed mid-task, stopped with SIGTERM, and Redis is
restarted (AOF on) under running work.
"""

from __future__ import annotations

import collections
import random
import shutil
import signal
import threading
import time

import pytest

from agentstage.runtime.distributed.journal import INTERRUPTED
from agentstage.runtime.distributed.ops import RuntimeOps
from tests.redis_server import RedisServer
from tests.runtime.distributed.harness import Cluster, distributed_config, live_workers, peek, reader, wait_for


@pytest.fixture
def cluster(tmp_path, redis_url):
    cluster = Cluster(distributed_config(tmp_path, redis_url), tmp_path)
    yield cluster
    cluster.stop()


def _running_on(config, run_id):
    row = peek(config, lambda db: db.get_run(run_id))
    return row.worker_id if row is not None and row.status == "running" else None


def test_killed_worker_task_is_completed_by_another_worker(cluster):
    config = cluster.config
    cluster.coordinator()
    cluster.worker("w1", 1)
    with RuntimeOps(config) as ops:
        wait_for(lambda: live_workers(ops, "w1"))
        run_id = ops.enqueue("nap 2500", agent="napper")["run_id"]
        assert wait_for(lambda: _running_on(config, run_id), interval=0.01) == "w1"
        cluster.kill("w1")
        cluster.worker("w2", 1)
        outcome = ops.wait(run_id, 60)
    assert outcome["status"] == "completed", cluster.log("coordinator")
    attempts = reader(config).attempts(run_id)
    assert [(a["worker_id"], a["status"]) for a in attempts] == [("w1", "failed"), ("w2", "completed")]
    assert "lease expired" in attempts[0]["error"]
    calls = [e for e in reader(config).events(run_id) if e.type == "tool.result"]
    assert [c.data["replayed"] for c in calls] == [False]


def test_sigterm_drains_finishes_short_work_and_releases_long_work(cluster):
    config = cluster.config
    cluster.coordinator()
    first = cluster.worker("w1", 2, "--drain-timeout=1.5")
    with RuntimeOps(config) as ops:
        wait_for(lambda: live_workers(ops, "w1"))
        short = ops.enqueue("tally short 300", agent="tally")["run_id"]
        long = ops.enqueue("tally long 4000", agent="tally")["run_id"]
        wait_for(lambda: _running_on(config, short) and _running_on(config, long))
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
        assert ops.outcome(short)["status"] == "completed"
        assert ops.outcome(long) is None
        cluster.worker("w2", 2)
        assert ops.wait(long, 60)["status"] == "completed"
        assert "w1" not in {w["worker_id"] for w in ops.workers()}
        [w1] = [w for w in ops.workers(history=True) if w["worker_id"] == "w1"]
    assert w1["status"] == "stopped"
    attempts = reader(config).attempts(long)
    assert [(a["worker_id"], a["status"]) for a in attempts] == [("w1", "failed"), ("w2", "completed")]
    assert "worker shut down" in attempts[0]["error"]


def test_redis_restart_mid_run_loses_nothing(tmp_path):
    server = RedisServer(tmp_path / "aof-redis", appendonly=True).start()
    cluster = Cluster(distributed_config(tmp_path, server.url), tmp_path)
    try:
        cluster.coordinator()
        cluster.worker("w1", 4)
        with RuntimeOps(cluster.config) as ops:
            wait_for(lambda: live_workers(ops, "w1"))
            runs = [ops.enqueue(f"tally r{i} 150", agent="tally")["run_id"] for i in range(24)]
            wait_for(lambda: ops.outcome(runs[0]))
            server.restart()
            more = [ops.enqueue(f"tally m{i} 50", agent="tally")["run_id"] for i in range(6)]
            outcomes = {run_id: ops.wait(run_id, 90) for run_id in runs + more}
    finally:
        cluster.stop()
        server.stop()
    assert all(o and o["status"] == "completed" for o in outcomes.values()), cluster.log("coordinator")
    counts = collections.Counter(cluster.tallies())
    assert set(counts) == {f"r{i}" for i in range(24)} | {f"m{i}" for i in range(6)}
    assert max(counts.values()) == 1
    db = reader(cluster.config)
    assert all(db.get_run(run_id).status == "completed" for run_id in runs + more)


def test_redis_that_lost_its_last_seconds_runs_nothing_again_and_every_waiter_returns(tmp_path):
    server = RedisServer(tmp_path / "aof-redis", appendonly=True, appendfsync="always").start()
    cluster = Cluster(distributed_config(tmp_path, server.url), tmp_path)
    snapshot = tmp_path / "aof-then"
    try:
        cluster.coordinator()
        cluster.worker("w1", 2)
        with RuntimeOps(cluster.config) as ops:
            wait_for(lambda: live_workers(ops, "w1"))
            runs = [ops.enqueue(f"tally r{i} 200", agent="tally")["run_id"] for i in range(16)]
            wait_for(lambda: ops.outcome(runs[1]))
            shutil.copytree(server.directory / "appendonlydir", snapshot)
            assert all(ops.wait(run_id, 90)["status"] == "completed" for run_id in runs)
            server.kill()
            shutil.rmtree(server.directory / "appendonlydir")
            shutil.copytree(snapshot, server.directory / "appendonlydir")
            server.start()
            forgotten = [run_id for run_id in runs if ops.outcome(run_id) is None]
            outcomes = {run_id: ops.wait(run_id, 60) for run_id in runs}
            after = ops.enqueue("tally after 10", agent="tally")["run_id"]
            assert ops.wait(after, 60)["status"] == "completed"
    finally:
        cluster.stop()
        server.stop()
    assert forgotten, "the rewound Redis should have forgotten some ends"
    assert all(o and o["status"] == "completed" for o in outcomes.values()), cluster.log("coordinator")
    counts = collections.Counter(cluster.tallies())
    assert set(counts) == {f"r{i}" for i in range(16)} | {"after"} and max(counts.values()) == 1, counts
    db = reader(cluster.config)
    assert all((db.get_run(run_id).status, db.get_run(run_id).attempt) == ("completed", 1) for run_id in runs)
    assert "reconciled Redis with the store" in cluster.log("coordinator")


def test_chaos_200_runs_with_repeated_kill_9(cluster):
    """Every run ends, none is lost, attempts are recorded and no side effect is repeated."""
    config = cluster.config
    cluster.coordinator()
    cluster.worker("w1", 4)
    cluster.worker("w2", 4)
    rng = random.Random(6)
    with RuntimeOps(config) as ops:
        wait_for(lambda: live_workers(ops, "w1", "w2"))
        runs = {ops.enqueue(f"tally c{i} {rng.randint(20, 200)}", agent="tally")["run_id"]: f"c{i}" for i in range(200)}
        kills = 0
        while kills < 6 and not all(ops.outcome(r) for r in runs):
            time.sleep(0.6)
            victim = "w1" if kills % 2 == 0 else "w2"
            cluster.kill(victim)
            kills += 1
            cluster.worker(victim, 4)
        outcomes = {run_id: ops.wait(run_id, 120) for run_id in runs}
    assert kills >= 2
    assert all(o is not None and o["status"] == "completed" for o in outcomes.values())
    counts = collections.Counter(cluster.tallies())
    assert max(counts.values()) == 1
    db = reader(config)
    # NOTE: a worker killed inside a tally call leaves its outcome unknown: the call is not repeated.
    for run_id, key in runs.items():
        if key not in counts:
            results = [e.data["result"] for e in db.events(run_id) if e.type == "tool.result"]
            assert results[-1] == {"error": INTERRUPTED}
            assert len(db.attempts(run_id)) > 1
    attempts = {run_id: db.attempts(run_id) for run_id in runs}
    assert all(a and a[-1]["status"] == "completed" for a in attempts.values())
    assert all(db.get_run(run_id).status == "completed" for run_id in runs)
    retried = [a for a in attempts.values() if len(a) > 1]
    assert retried, "no kill hit a task in flight"
    assert all(a[0]["status"] == "failed" and a[0]["error"] for a in retried)
    print(f"chaos: {kills} kills, {len(retried)} runs retried, {sum(map(len, attempts.values()))} attempts,"
          f" {len(runs) - len(counts)} calls interrupted")


def test_a_worker_killed_inside_a_delegated_child_run_repeats_neither_the_child_nor_its_side_effect(cluster):
    config = cluster.config
    cluster.coordinator()
    cluster.worker("w1", 2)
    with RuntimeOps(config) as ops:
        wait_for(lambda: live_workers(ops, "w1"))
        run_id = ops.enqueue("ask tally k9", agent="boss")["run_id"]

        def child_inside_its_tool(db) -> bool:
            children = [r for r in db.list_runs(limit=10).items if r.parent_run_id == run_id]
            return bool(children) and any(e.type == "tool.call" for e in db.events(children[0].run_id))

        wait_for(lambda: peek(config, child_inside_its_tool), interval=0.02)
        cluster.kill("w1")
        cluster.worker("w2", 2)
        outcome = ops.wait(run_id, 90)
    assert outcome is not None and outcome["status"] == "completed", cluster.log("coordinator")
    db = reader(config)
    [child] = [r for r in db.list_runs(limit=10).items if r.parent_run_id == run_id]
    assert child.status in ("failed", "cancelled"), "the killed child run is not left running"
    assert cluster.tallies().count("k9") <= 1
    asked = [e for e in db.events(run_id) if e.type == "tool.result" and e.tool == "ask_tally"]
    assert asked[-1].data["result"] == {"error": INTERRUPTED}, "its outcome is unknown: the child is not run again"
    assert len([r for r in db.list_runs(limit=10).items if r.parent_run_id == run_id]) == 1
    assert [a["worker_id"] for a in db.attempts(run_id)] == ["w1", "w2"]


def test_graph_continues_on_another_worker_from_its_last_checkpoint_after_a_kill(cluster):
    config = cluster.config
    cluster.coordinator()
    cluster.worker("w1", 1)
    with RuntimeOps(config) as ops:
        wait_for(lambda: live_workers(ops, "w1"))
        run_id = ops.enqueue("go", mode="graph", workflow="relay")["run_id"]
        wait_for(lambda: any(c["step"] >= 1 for c in peek(config, lambda db: db.checkpoints(run_id)) or ()),
                 interval=0.01)
        cluster.kill("w1")
        cluster.worker("w2", 1)
        outcome = ops.wait(run_id, 60)
    assert outcome["status"] == "completed", cluster.log("coordinator")
    db = reader(config)
    assert [c["step"] for c in db.checkpoints(run_id)] == [0, 1, 2, 3]
    counts = collections.Counter(cluster.tallies())
    assert counts["a"] == counts["c"] == 1 and counts["b"] <= 1
    if not counts["b"]:  # the kill landed inside b's call: its outcome is unknown and it is not repeated
        assert db.checkpoint(run_id)["state"]["b"] == {"error": INTERRUPTED}
    events = db.events(run_id)
    assert [e.node for e in events if e.type == "node.exited"].count("a") == 1
    resumed = [e for e in events if e.type == "run.resumed"]
    assert resumed[-1].data["worker_id"] == "w2" and resumed[-1].data["step"] >= 1
    assert [(a["worker_id"], a["status"]) for a in db.attempts(run_id)] == [("w1", "failed"), ("w2", "completed")]


def test_coordinator_killed_and_restarted_loses_nothing(cluster):
    config = cluster.config
    cluster.coordinator()
    cluster.worker("w1", 4)
    with RuntimeOps(config) as ops:
        wait_for(lambda: live_workers(ops, "w1"))
        runs = [ops.enqueue(f"tally k{i} 100", agent="tally")["run_id"] for i in range(40)]
        wait_for(lambda: ops.outcome(runs[0]), interval=0.01)
        cluster.kill("coordinator")
        more = [ops.enqueue(f"tally n{i} 20", agent="tally")["run_id"] for i in range(10)]
        cluster.coordinator()
        outcomes = [ops.wait(run_id, 60) for run_id in runs + more]
    assert all(o is not None and o["status"] == "completed" for o in outcomes), cluster.log("coordinator")
    assert max(collections.Counter(cluster.tallies()).values()) == 1
    assert len(cluster.tallies()) == 50
    db = reader(config)
    assert all(db.get_run(run_id).status == "completed" for run_id in runs + more)


def test_one_worker_holds_many_runs_waiting_on_a_model_at_once(cluster):
    from tests.local_http import LocalHTTP

    answer = {"id": "c", "model": "m", "choices": [{"index": 0, "finish_reason": "stop",
                                                    "message": {"role": "assistant", "content": "done"}}],
              "usage": {"prompt_tokens": 1, "completion_tokens": 1}}
    with LocalHTTP() as model:
        answering = threading.Event()
        model.routes["/v1/chat/completions"] = (200, answer, answering)
        cluster.env.update(AGENTSTAGE_PROVIDER="openai", OPENAI_BASE_URL=f"{model.url}/v1", OPENAI_API_KEY="test",
                           AGENTSTAGE_TOOLS="", AGENTSTAGE_AGENT_POOL="1")
        cluster.coordinator()
        cluster.worker("w1", 64)
        with RuntimeOps(cluster.config) as ops:
            wait_for(lambda: live_workers(ops, "w1"))
            runs = [ops.enqueue(f"question {i}")["run_id"] for i in range(60)]
            wait_for(lambda: len(model.requests) == 60, timeout=60)
            finished_while_all_waited = [ops.outcome(run_id) for run_id in runs if ops.outcome(run_id)]
            answering.set()
            outcomes = [ops.wait(run_id, 120) for run_id in runs]
    assert not finished_while_all_waited
    assert [o["status"] for o in outcomes] == ["completed"] * 60, cluster.log("w1")


def test_worker_paused_past_its_lease_neither_repeats_effects_nor_ends_a_run_twice(cluster):
    """SIGSTOP for over 3 leases mid-call, then SIGCONT: the retries of its runs land on the same worker,
    while its superseded attempts still run there. Each run ends once, completed; each effect happens once."""
    config = cluster.config
    cluster.coordinator()
    paused = cluster.worker("w1", 4)
    with RuntimeOps(config) as ops:
        wait_for(lambda: live_workers(ops, "w1"))
        runs = {ops.enqueue(f"tally p{i} {1500 if i < 4 else 50}", agent="tally")["run_id"]: f"p{i}"
                for i in range(6)}
        calling = list(runs)[:4]
        wait_for(lambda: all(peek(config, lambda db: [e for e in db.events(r) if e.type == "tool.call"])
                             for r in calling), interval=0.02)
        paused.send_signal(signal.SIGSTOP)
        try:
            time.sleep(3.5 * config.task_lease)
            assert all([a["status"] for a in peek(config, lambda db: db.attempts(r))] == ["failed"] for r in calling)
        finally:
            paused.send_signal(signal.SIGCONT)
        outcomes = {run_id: ops.wait(run_id, 60) for run_id in runs}
        time.sleep(2 * config.heartbeat_interval)
    assert all(o is not None and o["status"] == "completed" for o in outcomes.values()), cluster.log("w1")
    assert collections.Counter(cluster.tallies()) == {key: 1 for key in runs.values()}
    db = reader(config)
    for run_id in runs:
        endings = [e.type for e in db.events(run_id) if e.type in ("run.completed", "run.failed",
                                                                         "run.cancelled")]
        assert endings == ["run.completed"], (run_id, endings)
        statuses = [a["status"] for a in db.attempts(run_id)]
        assert "cancelled" not in statuses and statuses[-1] == "completed", (run_id, statuses)
        assert db.get_run(run_id).status == "completed"
    for run_id in calling:
        assert [a["status"] for a in db.attempts(run_id)] == ["failed", "completed"]
        assert "lease expired" in db.attempts(run_id)[0]["error"]
    assert "superseded" in cluster.log("w1") or "was lost" in cluster.log("w1")
