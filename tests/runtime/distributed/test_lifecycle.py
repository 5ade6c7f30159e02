"""Process lifecycle of coordinator and worker processes: starting, failing to start, stopping.

Every case runs the real CLI verbs as subprocesses against the suite's redis-server (or a port
where nothing, or something silent, listens).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentstage.runtime.distributed.ops import RuntimeOps
from tests.local_http import LocalHTTP
from tests.redis_server import RedisServer, free_port
from tests.runtime.distributed.harness import (
    APP,
    ROOT,
    Cluster,
    distributed_config,
    live_workers,
    peek,
    reader,
    wait_for,
)


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "agentstage.runtime.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def env(tmp_path: Path, redis_url: str) -> dict[str, str]:
    return Cluster(distributed_config(tmp_path, redis_url), tmp_path).env


@pytest.fixture
def silent_redis() -> Iterator[tuple[str, threading.Event]]:
    """A port that accepts connections and never answers; the event is set at the first connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    connected = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return
            connected.set()

    threading.Thread(target=accept, daemon=True).start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0", connected
    listener.close()
    for conn in held:
        conn.close()


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize(("setting", "value", "named"), [
    ("AGENTSTAGE_TOOLS", "no_such_tool", "unknown tool"),
    ("AGENTSTAGE_PROVIDER", "no_such_provider", "unknown provider"),
    ("AGENTSTAGE_TASK_LEASE", "soon", "expected a number"),
    ("AGENTSTAGE_REDIS_URL", "http://127.0.0.1:1", "not a Redis URL"),
])
def test_worker_with_bad_config_exits_2_with_one_line(env, setting, value, named) -> None:
    env.update({setting: value})
    process = _cli(env, "worker-start", "--worker-id=w1")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert named in _one_line(stderr) and setting in stderr


def test_coordinator_with_an_unusable_state_file_exits_3(env, tmp_path: Path) -> None:
    (tmp_path / "not-a-db").write_text("this is not SQLite")
    env.update(AGENTSTAGE_DB=str(tmp_path / "not-a-db"))
    process = _cli(env, "runtime-start")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 3
    assert "not-a-db" in _one_line(stderr)


@pytest.mark.parametrize("verb", [["runtime-start"], ["worker-start", "--worker-id=w1", f"--app={APP}"]])
def test_unreachable_redis_past_the_startup_timeout_exits_3_with_one_line(env, verb) -> None:
    env.update(AGENTSTAGE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", AGENTSTAGE_STARTUP_TIMEOUT="1")
    process = _cli(env, *verb)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 3
    line = _one_line(stderr)
    assert "cannot reach Redis within 1s" in line and "AGENTSTAGE_STARTUP_TIMEOUT" in line


@pytest.mark.parametrize("verb", [["runtime-start"], ["worker-start", "--worker-id=w1", f"--app={APP}"]])
def test_sigterm_while_waiting_for_a_silent_redis_stops_the_process(env, silent_redis, verb) -> None:
    url, connected = silent_redis
    env.update(AGENTSTAGE_REDIS_URL=url, AGENTSTAGE_STARTUP_TIMEOUT="600")
    process = _cli(env, *verb)
    assert connected.wait(60), "the process never tried to reach Redis"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_worker_started_before_redis_serves_once_redis_is_up(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "late-redis")
    cluster = Cluster(distributed_config(tmp_path, server.url), tmp_path)
    cluster.env["AGENTSTAGE_STARTUP_TIMEOUT"] = "120"
    try:
        cluster.worker("w1", 1)
        server.start()
        cluster.coordinator()
        with RuntimeOps(cluster.config) as ops:
            wait_for(lambda: live_workers(ops, "w1"), timeout=120)
            run_id = ops.enqueue("tally late 10", agent="tally")["run_id"]
            assert ops.wait(run_id, 60)["status"] == "completed", cluster.log("w1")
    finally:
        cluster.stop()
        server.stop()


def test_env_example_documents_the_startup_timeout() -> None:
    text = (ROOT / ".env.example").read_text()
    assert "\nAGENTSTAGE_STARTUP_TIMEOUT=30.0\n" in text
    assert "exits with code 3" in text.split("AGENTSTAGE_STARTUP_TIMEOUT=")[0].splitlines()[-1]


COMPLETION = {"id": "c1", "object": "chat.completion", "model": "slow-model",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "done thinking"},
                           "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}


def _status(config, run_id):
    row = peek(config, lambda db: db.get_run(run_id))
    return row.status if row is not None else None


def test_sigterm_releases_runs_waiting_on_a_slow_model_to_another_worker(tmp_path: Path, redis_url: str) -> None:
    cluster = Cluster(distributed_config(tmp_path, redis_url), tmp_path)
    config = cluster.config
    with LocalHTTP() as model:
        model.routes["/v1/chat/completions"] = (200, COMPLETION, 120)
        cluster.env.update(AGENTSTAGE_PROVIDER="openai", OPENAI_BASE_URL=f"{model.url}/v1", OPENAI_API_KEY="test",
                           AGENTSTAGE_TOOLS="")
        try:
            cluster.coordinator()
            first = cluster._spawn("w1", "worker-start", "--worker-id=w1", "--concurrency=4")
            with RuntimeOps(config) as ops:
                wait_for(lambda: live_workers(ops, "w1"), timeout=60)
                runs = [ops.enqueue(f"think {i}")["run_id"] for i in range(3)]
                wait_for(lambda: len(model.requests) >= 3, timeout=60)
                wait_for(lambda: all(_status(config, run_id) == "running" for run_id in runs), timeout=60)
                stopping = time.monotonic()
                first.send_signal(signal.SIGTERM)
                assert first.wait(timeout=30) == 0, cluster.log("w1")
                print(f"sigterm to exit with 3 runs waiting on the model: {time.monotonic() - stopping:.2f} s")
                assert all(ops.outcome(run_id) is None for run_id in runs)
                model.routes["/v1/chat/completions"] = (200, COMPLETION)
                cluster._spawn("w2", "worker-start", "--worker-id=w2", "--concurrency=4")
                outcomes = [ops.wait(run_id, 90) for run_id in runs]
        finally:
            cluster.stop()
    assert [o["status"] for o in outcomes] == ["completed"] * 3, cluster.log("coordinator")
    db = reader(config)
    for run_id in runs:
        attempts = db.attempts(run_id)
        assert [(a["worker_id"], a["status"]) for a in attempts] == [("w1", "failed"), ("w2", "completed")]
        assert "worker shut down" in attempts[0]["error"]
        assert db.get_run(run_id).output == "done thinking"


def _workers_cli(env, *flags):
    process = _cli(env, "runtime-workers", "--json", *flags)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    return {row["worker_id"]: row["status"] for row in json.loads(stdout)}


def test_stopped_workers_leave_the_live_list_and_stay_in_history(tmp_path: Path, redis_url: str) -> None:
    cluster = Cluster(distributed_config(tmp_path, redis_url), tmp_path)
    try:
        cluster.coordinator()
        first = cluster.worker("w1", 1)
        cluster.worker("w2", 1)
        with RuntimeOps(cluster.config) as ops:
            wait_for(lambda: live_workers(ops, "w1", "w2"), timeout=60)
        assert _workers_cli(cluster.env) == {"w1": "running", "w2": "running"}
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
        cluster.kill("w2")
        assert wait_for(lambda: _workers_cli(cluster.env) == {"w2": "lost"}, timeout=60)
        assert _workers_cli(cluster.env, "--all") == {"w1": "stopped", "w2": "lost"}
    finally:
        cluster.stop()


def test_cancel_of_a_queued_run_shows_cancelled_at_once(tmp_path: Path, redis_url: str) -> None:
    cluster = Cluster(distributed_config(tmp_path, redis_url), tmp_path)
    config = cluster.config
    try:
        cluster.coordinator()
        enqueue = _cli(cluster.env, "runtime-enqueue", "--agent=tally", "--", "tally never 10")
        run_id = enqueue.communicate(timeout=60)[0].strip()
        assert wait_for(lambda: _status(config, run_id) == "queued", timeout=60)
        cancel = _cli(cluster.env, "runtime-cancel", run_id)
        assert cancel.wait(timeout=60) == 0
        assert wait_for(lambda: _status(config, run_id) == "cancelled", timeout=60)
        with RuntimeOps(config) as ops:
            assert ops.outcome(run_id)["status"] == "cancelled"
            cluster.worker("w1", 1)
            wait_for(lambda: live_workers(ops, "w1"), timeout=60)
            tasks = lambda: next(q for q in ops.queues() if q["stream"] == ops.layout.tasks)
            wait_for(lambda: tasks()["pending"] == 0 and tasks()["lag"] == 0, timeout=60)
    finally:
        cluster.stop()
    assert "never" not in cluster.tallies()
    db = reader(config)
    assert db.get_run(run_id).status == "cancelled"
    assert [e.type for e in db.events(run_id)] == ["run.queued", "run.unserved", "run.cancelled"]


def test_run_of_a_dead_worker_is_failed_by_a_restarted_coordinator_when_out_of_attempts(tmp_path, redis_url):
    cluster = Cluster(distributed_config(tmp_path, redis_url, task_max_attempts=1), tmp_path)
    config = cluster.config
    try:
        cluster.coordinator()
        cluster.worker("w1", 1)
        with RuntimeOps(config) as ops:
            wait_for(lambda: live_workers(ops, "w1"), timeout=60)
            run_id = ops.enqueue("nap 60000", agent="napper")["run_id"]
            wait_for(lambda: _status(config, run_id) == "running", timeout=60)
            wait_for(lambda: any(e.type == "tool.call" for e in reader(config).events(run_id)), timeout=60)
            cluster.kill("w1")
            cluster.kill("coordinator")
            cluster.coordinator()
            outcome = ops.wait(run_id, 90)
    finally:
        cluster.stop()
    assert outcome is not None and outcome["status"] == "failed", cluster.log("coordinator")
    row = reader(config).get_run(run_id)
    assert row.status == "failed" and "lease expired" in row.error
    events = reader(config).events(run_id)
    assert events[-1].type == "run.failed" and events[-1].seq == max(e.seq for e in events)


def _queues_cli(env):
    process = _cli(env, "runtime-queues")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    return stderr


def _types(config, run_id):
    return [e.type for e in reader(config).events(run_id)]


def test_runs_no_worker_serves_are_reported_on_the_run_and_in_runtime_queues(tmp_path, redis_url):
    cluster = Cluster(distributed_config(tmp_path, redis_url), tmp_path)
    config = cluster.config
    try:
        cluster.coordinator()
        with RuntimeOps(config) as ops:
            early = ops.enqueue("tally early 10", agent="tally")["run_id"]
            wait_for(lambda: _status(config, early) == "queued", timeout=60)
            assert _types(config, early) == ["run.queued", "run.unserved"]
            assert reader(config).events(early)[1].data["reason"] == "no worker is alive"
            assert "warning: 1 runs of agent 'tally' wait: no worker is alive" in _queues_cli(cluster.env)
            cluster.worker("w1", 1)
            assert ops.wait(early, 60)["status"] == "completed"
            busy = ops.enqueue("nap 8000", agent="napper")["run_id"]
            wait_for(lambda: _status(config, busy) == "running", timeout=60)
            ghost = ops.enqueue("hello", agent="ghost")["run_id"]
            wait_for(lambda: _status(config, ghost), timeout=60)
            warnings = _queues_cli(cluster.env)
            assert ops.wait(ghost, 60)["status"] == "failed"
            assert ops.wait(busy, 60)["status"] == "completed"
            assert _queues_cli(cluster.env) == ""
    finally:
        cluster.stop()
    assert "warning: 1 runs of agent 'ghost' wait: no live worker serves agent 'ghost'" in warnings
    unserved = reader(config).events(ghost)[1]
    assert (unserved.type, unserved.data["reason"]) == ("run.unserved", "no live worker serves agent 'ghost'")
    assert "run.unserved" not in _types(config, busy)
    assert _types(config, early)[:3] == ["run.queued", "run.unserved", "run.started"]


def test_restarted_coordinator_requeues_runs_whose_task_redis_lost(tmp_path, redis_url):
    cluster = Cluster(distributed_config(tmp_path, redis_url), tmp_path)
    config = cluster.config
    try:
        coordinator = cluster.coordinator()
        with RuntimeOps(config) as ops:
            lost = ops.enqueue("tally lost 10", agent="tally")["run_id"]
            kept = ops.enqueue("tally kept 10", agent="tally")["run_id"]
            wait_for(lambda: _status(config, lost) == _status(config, kept) == "queued", timeout=60)
            coordinator.send_signal(signal.SIGTERM)
            assert coordinator.wait(timeout=30) == 0
            [entry] = [entry_id for entry_id, fields in ops.client.xrange(ops.layout.tasks)
                       if lost.encode() in fields[b"m"]]
            ops.client.xdel(ops.layout.tasks, entry)
            cluster.coordinator()
            assert wait_for(lambda: reader(config).get_run(lost).attempt == 2, timeout=60)
            cluster.worker("w1", 1)
            assert ops.wait(kept, 60)["status"] == "completed"
            assert ops.wait(lost, 60)["status"] == "completed"
    finally:
        cluster.stop()
    events = [e for e in reader(config).events(lost) if e.type != "run.unserved"]
    assert [e.type for e in events][:3] == ["run.queued", "run.failed", "run.queued"]
    assert events[-1].type == "run.completed" and "no longer in Redis" in events[1].error
    assert sorted(cluster.tallies()) == ["kept", "lost"]