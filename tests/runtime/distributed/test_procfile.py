"""The top-level Procfile: honcho brings the coordinator and scaled workers up and down."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agentstage.runtime.distributed.ops import RuntimeOps
from tests.redis_server import in_ci
from tests.runtime.distributed.harness import ROOT, distributed_config, wait_for

HONCHO = Path(sys.executable).parent / "honcho"


def test_procfile_declares_api_coordinator_and_worker():
    processes = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(processes) == {"api", "coordinator", "worker"}
    assert "runtime-start" in processes["coordinator"] and "worker-start" in processes["worker"]
    assert "ui-api --ui-addr" in processes["api"] and "$" in processes["api"]


def test_honcho_starts_scaled_workers_and_stops_them_on_sigterm(tmp_path, redis_url):
    if not HONCHO.exists() and shutil.which("honcho") is None:
        if in_ci():
            pytest.fail("honcho is required in CI (dev extra)")
        pytest.skip("honcho is not installed")
    config = distributed_config(tmp_path, redis_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    env.update({"AGENTSTAGE_HOME": config.home, "AGENTSTAGE_REDIS_URL": config.redis_url,
                "AGENTSTAGE_STREAM_PREFIX": config.stream_prefix, "AGENTSTAGE_HEARTBEAT_INTERVAL": "0.3",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"})
    honcho = subprocess.Popen([str(HONCHO if HONCHO.exists() else "honcho"), "-f", str(ROOT / "Procfile"),
                               "-d", str(tmp_path), "start", "-c", "worker=2", "coordinator", "worker"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
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
    assert "Traceback" not in output


def _alive(ops: RuntimeOps) -> list[str]:
    return [w["worker_id"] for w in ops.workers() if w["alive"]]
