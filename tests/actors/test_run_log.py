"""RunLog on a real full disk (a small tmpfs): a run is reported only once all its writes are durable.

Mounting tmpfs needs root; elsewhere these tests skip.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentstage.runtime import Config, System
from agentstage.runtime.errors import NotFound, StoreError
from agentstage.runtime.state.reader import RunRow
from agentstage.runtime.state.records import Event
from agentstage.runtime.tools.registry import Tool
from tests.redis_server import in_ci
from tests.runtime.distributed.harness import wait_for


class Disk:
    """A small tmpfs; `fill` takes every free byte with a ballast file, `free` gives the space back."""

    def __init__(self, mount: Path) -> None:
        self.mount = mount
        self.ballast = mount / "ballast"

    def fill(self) -> None:
        fd = os.open(self.ballast, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            for size in (1 << 16, 1 << 12, 1):
                while True:
                    try:
                        os.write(fd, b"\0" * size)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
        finally:
            os.close(fd)

    def free(self) -> None:
        self.ballast.unlink(missing_ok=True)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Disk]:
    mount = tmp_path / "disk"
    mount.mkdir()
    problem = "mounting a tmpfs needs root" if os.geteuid() != 0 else None
    if problem is None:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True)
        if done.returncode != 0:
            problem = f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}"
    if problem is not None:
        if in_ci():
            pytest.fail(f"the disk-full test needs a real tmpfs in CI: {problem}")
        pytest.skip(problem)
    try:
        yield Disk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _system(tmp_path: Path, disk: Disk, probes: list[str]) -> System:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"name": "free", "pattern": "free the disk", "tool": "free_space", "arguments": {}}]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    config = Config.from_env(env, dotenv=None, home=str(tmp_path / "home"), db_path=str(disk.mount / "state.db"),
                             provider="scripted", scripted_rules=str(rules), tools="free_space", agent_pool_size=1)
    system = System(config)

    def free_space() -> dict[str, bool]:
        # NOTE: a write queued behind the run's first writes fails only once they have failed too
        try:
            system.write([Event("probe", 1, "note", "2026-01-01T00:00:00.000Z", "s")])
            probes.append("written")
        except StoreError as exc:
            probes.append(f"failed: {exc}")
        disk.free()
        return {"freed": True}

    system.tools.register(Tool("free_space", "give the disk its space back", {"type": "object", "properties": {}},
                               free_space))
    return system


def _row(system: System, run_id: str) -> RunRow | None:
    try:
        return system.reader().get_run(run_id)
    except NotFound:
        return None


def _recorded_failed(system: System, run_id: str) -> RunRow | None:
    row = _row(system, run_id)
    return row if row is not None and row.status == "failed" else None


def test_a_run_whose_first_writes_failed_is_reported_failed_even_when_its_last_write_lands(tmp_path, disk):
    probes: list[str] = []
    with _system(tmp_path, disk, probes) as system:
        assert system.run("hello").status == "completed"
        disk.fill()
        result = system.run("free the disk")
        assert probes and probes[0].startswith("failed")
        assert result.status == "failed" and "could not be recorded" in result.error
        row = wait_for(lambda: _recorded_failed(system, result.run_id))
        types = [e.type for e in system.reader().events(result.run_id)]
    assert "could not be recorded" in row.error
    assert types[0] == "run.started" and types[-1] == "run.failed"


def test_a_run_on_a_full_disk_is_reported_failed_and_recorded_failed_once_space_returns(tmp_path, disk):
    with _system(tmp_path, disk, []) as system:
        assert system.run("hello").status == "completed"
        disk.fill()
        result = system.run("hello again")
        assert result.status == "failed" and "could not be recorded" in result.error
        assert _row(system, result.run_id) is None
        disk.free()
        row = wait_for(lambda: _recorded_failed(system, result.run_id))
    assert "could not be recorded" in row.error
