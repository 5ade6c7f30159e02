"""The top-level Procfile: honcho brings the coordinator and scaled workers up and down."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from agentstage.runtime.distributed.ops import RuntimeOps
from tests.redis_server import free_port, in_ci
from tests.runtime.distributed.harness import ROOT, distributed_config, wait_for

HONCHO = Path(sys.executable).parent / "honcho"


def test_procfile_declares_api_coordinator_and_worker():
    processes = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(processes) == {"api", "coordinator", "worker"}
    assert "runtime-start" in processes["coordinator"] and "worker-start" in processes["worker"]
    assert "ui-api --distributed --ui-addr" in processes["api"] and "$" in processes["api"]


def _require_honcho() -> None:
    if not HONCHO.exists() and shutil.which("honcho") is None:
        if in_ci():
            pytest.fail("honcho is required in CI (dev extra)")
        pytest.skip("honcho is not installed")


def _env(config) -> dict[str, str]:
    """What the README's steps give honcho: the deployment's settings and the venv's `bin` on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    env.update({"AGENTSTAGE_HOME": config.home, "AGENTSTAGE_REDIS_URL": config.redis_url,
                "AGENTSTAGE_STREAM_PREFIX": config.stream_prefix, "AGENTSTAGE_HEARTBEAT_INTERVAL": "0.3",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"})
    return env


def _honcho(tmp_path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(HONCHO if HONCHO.exists() else "honcho"), "-f", str(ROOT / "Procfile"),
                             "-d", str(tmp_path), "start", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def test_honcho_starts_scaled_workers_and_stops_them_on_sigterm(tmp_path, redis_url):
    _require_honcho()
    config = distributed_config(tmp_path, redis_url)
    honcho = _honcho(tmp_path, _env(config), "-c", "worker=2", "coordinator", "worker")
    try:
        with RuntimeOps(config) as ops:
            workers = wait_for(lambda: _alive(ops) if len(_alive(ops)) == 2 else None)
            assert all(w.endswith((":worker.1", ":worker.2")) for w in workers)
            run_id = ops.enqueue("what is 6 * 7")["run_id"]
            assert ops.wait(run_id, 60)["output"] == "6 * 7 = 42"
        honcho.send_signal(signal.SIGTERM)
        output = honcho.communicate(timeout=30)[0].decode(errors="replace")
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait()
    assert "Traceback" not in output, output[output.find("Traceback") - 500:][:4000]


def _alive(ops: RuntimeOps) -> list[str]:
    return [w["worker_id"] for w in ops.workers() if w["alive"]]


def test_ctrl_c_with_runs_in_flight_stops_api_coordinator_and_worker_without_sigkill(tmp_path, redis_url):
    _require_honcho()
    config = distributed_config(tmp_path, redis_url)
    env = _env(config)
    created = subprocess.run([str(Path(sys.executable).parent / "agentstage"), "ui-admin", "create-key", "--role",
                              "operator", "--json"], env=env, cwd=tmp_path, capture_output=True, check=True)
    headers = {"Authorization": f"Bearer {json.loads(created.stdout)['secret']}"}
    port = free_port()
    honcho = _honcho(tmp_path, env, "-p", str(port))
    try:
        with RuntimeOps(config) as ops:
            wait_for(lambda: _alive(ops) or None)
            api = f"http://127.0.0.1:{port}/api/v1"
            started = wait_for(lambda: _post(f"{api}/runs", {"input": "calculate 6 * 7"}, headers))
            assert started["status"] == "queued", "the Procfile's api hands runs to the coordinator"
            assert ops.wait(started["run_id"], 60)["output"] == "6 * 7 = 42"
            batch = [ops.enqueue(f"calculate {n} + 1")["run_id"] for n in range(1000)]
            # NOTE: runs are fast; the first answer means the worker is busy with the rest, not idle.
            wait_for(lambda: ops.outcome(batch[0]))
            assert ops.outcome(batch[-1]) is None, "runs are still in flight when Ctrl-C comes"
        honcho.send_signal(signal.SIGINT)
        output = honcho.communicate(timeout=30)[0].decode(errors="replace")
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait()
    assert "SIGINT received" in output and "SIGKILL" not in output, output[-3000:]
    assert {name for name in ("api.1", "coordinator.1", "worker.1") if f"{name} stopped (rc=" in output} == {
        "api.1", "coordinator.1", "worker.1"}, output[-3000:]
    assert "Traceback" not in output, output[output.find("Traceback") - 500:][:4000]


def _post(url: str, body: dict, headers: dict[str, str]) -> dict | None:
    """The JSON answer of a POST, or None while the server does not answer yet."""
    try:
        answer = httpx.post(url, json=body, headers=headers, timeout=10)
    except httpx.TransportError:
        return None
    assert answer.status_code == 202, answer.text
    return answer.json()
