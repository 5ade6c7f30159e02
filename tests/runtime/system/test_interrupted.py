"""Runs a dead process left behind are failed when a System opens the store; live processes' runs are not.

The processes are real: `agentstage run` waits on a slow local model server, then is killed with
SIGKILL (its run must be failed as interrupted) or left alive (its run must stay running).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentstage.runtime import Config, System
from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import StoreError
from agentstage.runtime.owner import RunOwner
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.records import Event
from tests.local_http import LocalHTTP
from tests.runtime.distributed.harness import wait_for


@pytest.fixture
def model() -> Iterator[LocalHTTP]:
    """A model server that answers after two minutes: runs wait on it for as long as a test needs."""
    with LocalHTTP() as server:
        server.routes["/v1/chat/completions"] = (200, {"choices": []}, 120)
        yield server


def _run_process(home: Path, model: LocalHTTP) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTSTAGE_", "OPENAI_"))}
    env.update(AGENTSTAGE_HOME=str(home), AGENTSTAGE_PROVIDER="openai", OPENAI_BASE_URL=f"{model.url}/v1",
               OPENAI_API_KEY="test", AGENTSTAGE_TOOLS="")
    process = subprocess.Popen([sys.executable, "-m", "agentstage.runtime.cli", "run", "--", "hello"], env=env,
                               cwd=home.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: model.requests, timeout=60)
    wait_for(lambda: _running(home), timeout=60)
    return process


def _running(home: Path) -> bool:
    """Whether the run's row says running (written before the model call, committed a moment later)."""
    try:
        db = SQLiteReader(home / "agentstage.db")
    except StoreError:
        return False
    try:
        return [row.status for row in db.list_runs().items] == ["running"]
    except StoreError:
        return False
    finally:
        db.close()


def _config(home: Path) -> Config:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    return Config.from_env(env, dotenv=None, home=str(home))


def test_run_of_a_killed_process_is_failed_as_interrupted_when_a_system_opens_the_store(tmp_path, model) -> None:
    home = tmp_path / "home"
    process = _run_process(home, model)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    with System(_config(home)) as system:
        [row] = system.list_runs().items
        events = system.events(row.run_id)
    assert row.status == "failed"
    assert row.error.startswith(f"interrupted: the process running it (pid {process.pid} on ")
    assert events[-1].type == "run.failed" and events[-1].data["error_type"] == "Interrupted"
    assert events[0].data["owner"]["pid"] == process.pid


def test_run_of_a_live_process_stays_running_when_another_system_opens_the_store(tmp_path, model) -> None:
    home = tmp_path / "home"
    process = _run_process(home, model)
    try:
        with System(_config(home)) as system:
            [row] = system.list_runs().items
        listed = subprocess.run([sys.executable, "-m", "agentstage.runtime.cli", "runs", "list", "--json",
                                 f"--home={home}"], capture_output=True, text=True, timeout=60)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert row.status == "running"
    assert [r["status"] for r in json.loads(listed.stdout)] == ["running"]
    with System(_config(home)) as system:
        assert [r.status for r in system.list_runs().items] == ["cancelled"]


def _dead_owner() -> RunOwner:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    owner = RunOwner(RunOwner.current().host, child.pid, 0.0)
    child.wait()
    return owner


def test_queued_graph_and_child_runs_of_dead_processes_are_failed_others_kept(config) -> None:
    dead, other_host = _dead_owner().to_data(), {"host": "elsewhere", "pid": 1, "started": 0.0}
    now = utc_now()
    records = [
        Event("queued", 1, "run.queued", now, "s", {"kind": "agent", "agent": "default", "owner": dead}),
        Event("graph", 1, "run.started", now, "s", {"kind": "graph", "workflow": "w", "owner": dead}),
        Event("remote", 1, "run.started", now, "s", {"kind": "agent", "owner": other_host}),
        Event("worker", 1, "run.queued", now, "s", {"kind": "agent"}),
        Event("worker", 2, "run.started", now, "s", {"kind": "agent", "worker_id": "w1"}),
        Event("mine", 1, "run.started", now, "s", {"kind": "agent", "owner": RunOwner.current().to_data()}),
        Event("child", 1, "run.queued", now, "s", {"kind": "agent", "parent_run_id": "graph"}),
        Event("child", 2, "llm.request", now, "s", {}),
    ]
    with System(config) as system:
        system.write(records)
    with System(config) as system:
        status = {row.run_id: row.status for row in system.list_runs().items}
        queued_events = [e.type for e in system.events("queued")]
        child_events = [(e.seq, e.type) for e in system.events("child")]
    assert status == {"queued": "failed", "graph": "failed", "remote": "running", "worker": "running",
                      "mine": "running", "child": "failed"}
    assert queued_events == ["run.queued", "run.failed"]
    assert child_events == [(1, "run.queued"), (2, "llm.request"), (3, "run.failed")]


def test_owner_of_this_process_is_alive_and_of_a_reaped_one_is_not() -> None:
    me = RunOwner.current()
    assert me.is_alive() and me.is_local()
    assert not _dead_owner().is_alive()
    assert not RunOwner(me.host, me.pid, me.started - 3600).is_alive()
    assert RunOwner.from_data({"owner": me.to_data()}) == me
    assert RunOwner.from_data({"owner": {"pid": "x"}}) is None and RunOwner.from_data(None) is None
