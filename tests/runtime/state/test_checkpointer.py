"""Checkpointer: a writer's log is copied into the database file in the background, and its thread ends with it."""

from __future__ import annotations

import gc

from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.state.records import Event
from agentstage.runtime.state.sqlite import SQLiteWriter
from tests.runtime.distributed.harness import wait_for


def _run_events(text: str) -> list[Event]:
    run_id, session_id, now = new_id(), new_id(), utc_now()
    return [Event(run_id, 1, "run.queued", now, session_id, {"input": text}),
            Event(run_id, 2, "run.started", now, session_id, {"input": text}),
            Event(run_id, 3, "run.completed", now, session_id, {"output": text})]


def test_the_log_reaches_the_database_file_while_the_writer_keeps_writing(tmp_path):
    path = tmp_path / "state.db"
    writer = SQLiteWriter(path)
    try:
        empty = path.stat().st_size
        for _ in range(40):
            writer.begin()
            for _ in range(50):
                writer.apply_batch(_run_events("x" * 200))
            writer.commit()
        # NOTE: the writer's own checkpoint waits for 20,000 log pages; these runs are far fewer
        wait_for(lambda: path.stat().st_size > empty + 1_000_000, timeout=30)
        busy, frames, copied = writer.checkpointer.checkpoint()
        assert busy == 0 and frames == copied
    finally:
        writer.close()
    assert not writer.checkpointer.is_alive()


def test_a_writer_dropped_without_close_does_not_leave_its_thread_running(tmp_path):
    writer = SQLiteWriter(tmp_path / "state.db")
    thread = writer.checkpointer
    del writer
    gc.collect()
    wait_for(lambda: not thread.is_alive(), timeout=10)
