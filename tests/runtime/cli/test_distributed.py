"""The distributed runtime's CLI verbs in subprocesses, against in-process coordinator and worker nodes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentstage.runtime.distributed.ops import RuntimeOps
from tests.redis_server import free_port
from tests.runtime.distributed.harness import coordinator, distributed_config, wait_for, worker

AGENTSTAGE = str(Path(sys.executable).parent / "agentstage")


def cli(config, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    env.update({"AGENTSTAGE_HOME": config.home, "AGENTSTAGE_REDIS_URL": config.redis_url,
                "AGENTSTAGE_STREAM_PREFIX": config.stream_prefix})
    return subprocess.run([AGENTSTAGE, *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def deployment(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    with coordinator(config), worker(config, "w1"):
        yield config


def test_enqueue_wait_prints_the_answer(deployment):
    done = cli(deployment, "runtime-enqueue", "--wait", "--json", "--", "what is 6 * 7")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["status"], result["output"]) == ("completed", "6 * 7 = 42")
    plain = cli(deployment, "runtime-enqueue", "--", "hello")
    assert plain.returncode == 0 and len(plain.stdout.strip()) == 32


def test_enqueue_wait_exits_1_when_the_run_fails(deployment):
    done = cli(deployment, "runtime-enqueue", "--wait", "--agent=no-such-agent", "--", "hello")
    assert done.returncode == 1
    assert "failed" in done.stderr and "Traceback" not in done.stderr


def test_workers_and_queues_as_json(deployment):
    wait_for(lambda: json.loads(cli(deployment, "runtime-workers", "--json").stdout))
    [row] = json.loads(cli(deployment, "runtime-workers", "--json").stdout)
    assert (row["worker_id"], row["alive"], row["status"]) == ("w1", True, "running")
    queues = {q["stream"].split(":")[-1]: q for q in json.loads(cli(deployment, "runtime-queues", "--json").stdout)}
    assert set(queues) == {"admit", "tasks", "results", "control", "dlq", "delayed"}
    assert all({"length", "pending", "lag", "oldest_age_s"} <= set(q) for q in queues.values())
    table = cli(deployment, "runtime-queues")
    assert table.returncode == 0 and "PENDING" in table.stdout


def test_dlq_list_show_requeue_and_purge(deployment):
    with RuntimeOps(deployment) as ops:
        ops.client.xadd(ops.layout.tasks, {"m": b'{"type":"nope","v":1,"body":{}}'})
        wait_for(ops.dlq_list)
    [entry] = json.loads(cli(deployment, "runtime-dlq", "list", "--json").stdout)
    assert "unknown message type" in entry["reason"]
    shown = json.loads(cli(deployment, "runtime-dlq", "show", entry["id"], "--json").stdout)
    assert shown["payload"] == '{"type":"nope","v":1,"body":{}}'
    plain = cli(deployment, "runtime-dlq", "show", entry["id"]).stdout
    assert re.search(r"^\s+ts: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", plain, re.MULTILINE), plain
    listed = cli(deployment, "runtime-dlq", "list").stdout
    assert re.match(rf"{entry['id']}\s+\d{{4}}-\d\d-\d\dT", listed), listed
    requeue = cli(deployment, "runtime-dlq", "requeue", entry["id"])
    assert requeue.returncode == 2 and "can only be purged" in requeue.stderr
    missing = cli(deployment, "runtime-dlq", "show", "1-1")
    assert missing.returncode == 2 and missing.stderr.startswith("agentstage: unknown DLQ entry")
    refused = cli(deployment, "runtime-dlq", "purge")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    purged = cli(deployment, "runtime-dlq", "purge", "--yes", "--json")
    assert json.loads(purged.stdout) == {"purged": 1}


def test_cancel_of_an_ended_run_is_a_usage_error(deployment):
    run_id = json.loads(cli(deployment, "runtime-enqueue", "--wait", "--json", "--", "hello").stdout)["run_id"]
    done = cli(deployment, "runtime-cancel", run_id)
    assert done.returncode == 2
    assert "already completed" in done.stderr and len(done.stderr.splitlines()) == 1


def test_requeue_of_a_run_that_cannot_be_requeued_exits_2_with_the_reason(deployment):
    run_id = json.loads(cli(deployment, "runtime-enqueue", "--wait", "--json", "--", "hello").stdout)["run_id"]
    done = cli(deployment, "runtime-requeue", run_id)
    assert done.returncode == 2, done.stdout
    assert "it is completed; only failed or cancelled runs are requeued" in done.stderr
    assert len(done.stderr.splitlines()) == 1 and not done.stdout
    unknown = cli(deployment, "runtime-requeue", "no-such-run")
    assert unknown.returncode == 2 and "unknown run: no-such-run" in unknown.stderr
    with RuntimeOps(deployment) as ops:
        assert ops.outcome(run_id)["status"] == "completed"


def test_requeue_of_a_failed_run_answers_with_its_new_attempt(deployment):
    failed = json.loads(cli(deployment, "runtime-enqueue", "--wait", "--json", "--agent=flaky", "--", "hi").stdout)
    assert failed["status"] == "failed"
    done = cli(deployment, "runtime-requeue", "--json", failed["run_id"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["attempt"] == 4
    with RuntimeOps(deployment) as ops:
        assert ops.wait(failed["run_id"], 60)["status"] == "failed"


def test_requeue_without_a_coordinator_exits_3(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    done = cli(config, "runtime-requeue", "--timeout=0.5", "some-run")
    assert done.returncode == 3
    assert "no coordinator answered" in done.stderr and len(done.stderr.splitlines()) == 1


def test_unreachable_redis_exits_3_with_one_line(tmp_path):
    config = distributed_config(tmp_path, f"redis://127.0.0.1:{free_port()}/0")
    for verb in (["runtime-queues"], ["runtime-enqueue", "--", "hi"], ["runtime-cancel", "x"]):
        done = cli(config, *verb)
        assert done.returncode == 3, (verb, done.stderr)
        assert done.stderr.startswith("agentstage: ") and len(done.stderr.splitlines()) == 1


def test_empty_input_and_bad_concurrency_are_usage_errors(tmp_path):
    config = distributed_config(tmp_path, f"redis://127.0.0.1:{free_port()}/0")
    assert cli(config, "runtime-enqueue", "--", " ").returncode == 2
    assert cli(config, "runtime-enqueue", "--mode=graph", "--", "x").returncode == 2
    assert cli(config, "worker-start", "--concurrency=0").returncode == 2


def test_worker_app_module_is_found_in_the_current_directory(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    shutil.copy(Path(__file__).resolve().parents[3] / "examples" / "worker_app.py", app_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    env.update({"AGENTSTAGE_HOME": config.home, "AGENTSTAGE_REDIS_URL": config.redis_url,
                "AGENTSTAGE_STREAM_PREFIX": config.stream_prefix})
    with coordinator(config):
        process = subprocess.Popen([AGENTSTAGE, "worker-start", "--app", "worker_app", "--worker-id", "app-w"],
                                   cwd=app_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            done = cli(config, "runtime-enqueue", "--wait", "--json", "--agent=counter", "--", "count to be or not")
        finally:
            process.terminate()
            _, err = process.communicate(timeout=30)
    assert done.returncode == 0, (done.stderr, err)
    assert json.loads(done.stdout)["output"] == "count returned count 4, unit words."
    assert process.returncode == 0, err


def test_worker_app_that_does_not_load_is_one_line_exit_2(tmp_path):
    config = distributed_config(tmp_path, f"redis://127.0.0.1:{free_port()}/0")
    done = cli(config, "worker-start", "--app", "no_such_app_module")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "cannot load the worker setup: No module named 'no_such_app_module'" in done.stderr


def _waiting_ask_run(config) -> str:
    run_id = cli(config, "runtime-enqueue", "--mode=graph", "--workflow=ask", "--", "start").stdout.strip()
    with RuntimeOps(config) as ops:
        assert ops.wait(run_id, 60)["status"] == "waiting"
    return run_id


def test_resume_answers_a_waiting_graph_run_on_a_worker(deployment):
    run_id = _waiting_ask_run(deployment)
    done = cli(deployment, "runtime-resume", run_id, "--input", "6 * 7", "--wait", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "completed" and "42" in json.loads(done.stdout)["output"]
    again = cli(deployment, "runtime-resume", run_id, "--input", "1 + 1")
    assert again.returncode == 2 and len(again.stderr.splitlines()) == 1
    assert "the coordinator refused" in again.stderr and "Traceback" not in again.stderr


def test_fork_starts_a_new_run_from_a_checkpoint_with_changed_state(deployment):
    run_id = _waiting_ask_run(deployment)
    assert cli(deployment, "runtime-resume", run_id, "--input", "6 * 7", "--wait").returncode == 0
    done = cli(deployment, "runtime-fork", run_id, "--step", "1", "--set", "expression=2 + 2", "--wait", "--json")
    assert done.returncode == 0, done.stderr
    forked = json.loads(done.stdout)
    assert forked["run_id"] != run_id and forked["status"] == "completed" and "4" in forked["output"]
    bad = cli(deployment, "runtime-fork", run_id, "--step", "1", "--set", "no-equals-sign")
    assert bad.returncode == 2 and bad.stderr.strip() == "agentstage: --set expects KEY=VALUE, got 'no-equals-sign'"
    unknown = cli(deployment, "runtime-fork", "no-such-run", "--step", "1")
    assert unknown.returncode == 2 and "the coordinator refused" in unknown.stderr


def test_resume_without_a_coordinator_exits_3(tmp_path, redis_url):
    config = distributed_config(tmp_path, redis_url)
    done = cli(config, "runtime-resume", "--timeout=0.5", "some-run")
    assert done.returncode == 3
    assert "no coordinator answered the resume of run some-run" in done.stderr and len(done.stderr.splitlines()) == 1
