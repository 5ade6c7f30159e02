"""Schema migrations: concurrent first starts on a fresh file, real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import apsw

from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.records import RunAttempt
from agentstage.runtime.state.schema import MIGRATIONS
from agentstage.runtime.state.sqlite import SQLiteWriter
from tests.runtime.distributed.harness import wait_for

ROOT = Path(__file__).resolve().parents[3]
STARTS = 20
CHILD = """
import sys, time
from pathlib import Path
from agentstage.runtime.state.records import Event
from agentstage.runtime.state.sqlite import SQLiteWriter
gate, db, name = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
(gate / f"ready-{name}").touch()
while not (gate / "go").exists():
    time.sleep(0.001)
writer = SQLiteWriter(db)
writer.write([Event(name, 1, "run.started", "2026-01-01T00:00:00.000Z", "s", {"input": name})])
writer.close()
"""


def test_twenty_concurrent_first_starts_on_a_fresh_file_all_succeed(tmp_path: Path) -> None:
    db = tmp_path / "home" / "agentstage.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), str(db), f"p{i}"], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(STARTS)]
    try:
        wait_for(lambda: len(list(tmp_path.glob("ready-*"))) == STARTS, timeout=120)
        (tmp_path / "go").touch()
        outcomes = [(child.wait(timeout=120), child.stderr.read()) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert [error for code, error in outcomes if code != 0] == []
    connection = apsw.Connection(str(db))
    assert connection.pragma("user_version") == len(MIGRATIONS)
    assert connection.execute("SELECT count(*) FROM runs").get == STARTS
    assert connection.execute("PRAGMA integrity_check").get == "ok"


def test_a_file_whose_claims_are_queue_events_upgrades_and_reads_each_transition_once(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    old = apsw.Connection(str(db))
    for version, sql in enumerate(MIGRATIONS[:-1], start=1):
        old.execute(sql)
        old.pragma("user_version", version)
    ts = "2026-01-01T00:00:0{}.000Z".format
    old.execute("INSERT INTO run_attempts(run_id, attempt, task_id, worker_id, status, started_at, ended_at)"
                " VALUES ('r1', 1, 'r1', 'w1', 'running', ?, NULL)", (ts(2),))
    for kind, at, detail in (("enqueued", 1, "{}"), ("claimed", 2, '{"worker_id":"w1"}')):
        old.execute("INSERT INTO queue_events(task_id, attempt, kind, ts, run_id, detail)"
                    " VALUES ('r1', 1, ?, ?, 'r1', ?)", (kind, ts(at), detail))
    old.close()

    writer = SQLiteWriter(db)
    # NOTE: the attempt claimed before the upgrade ends after it; a repeated claim on the row adds nothing
    writer.write([RunAttempt("r1", 1, "completed", ts(2), "r1", "w1", ts(3), claimed_at=ts(2), acked_at=ts(3))])
    assert writer.connection.pragma("user_version") == len(MIGRATIONS)
    writer.close()
    reader = SQLiteReader(db)
    assert [(q["kind"], q["ts"]) for q in reader.queue_events("r1")] == [
        ("enqueued", ts(1)), ("claimed", ts(2)), ("acked", ts(3))]
    reader.close()
