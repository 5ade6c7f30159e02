"""Background WAL checkpoints for a SQLite writer, so its commits do not pay for copying the log back.

With SQLite's automatic checkpoint, every thousandth page a commit copies the write-ahead log
into the database file and syncs both, inside the writer's own commit (a fifth to a quarter of
the writer's time on a no-op run's records). A `Checkpointer` runs PASSIVE checkpoints from its
own connection instead: they never wait for readers or the writer, and the writer keeps running
while one copies. The writer's own automatic checkpoint stays as a backstop, set far higher.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import apsw
from loguru import logger

__all__ = ["BACKSTOP_PAGES", "Checkpointer"]

BACKSTOP_PAGES = 20_000
"""Log pages (about 80 MB) past which the writer checkpoints itself, should the background fall behind."""


class Checkpointer(threading.Thread):
    """Checkpoints one database file every `interval` seconds until stopped or its `owner` is gone."""

    def __init__(self, path: str, owner: Any, interval: float = 0.2) -> None:
        super().__init__(name=f"checkpoint:{path}", daemon=True)
        self.path = path
        self.interval = interval
        self.connection = apsw.Connection(path)
        self._owner = weakref.ref(owner)
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            # NOTE: a writer dropped without `close` must not leave a thread checkpointing for ever
            while not self._stop_event.wait(self.interval) and self._owner() is not None:
                self.checkpoint()
        finally:
            self.connection.close()

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, log frames, frames copied); (1, -1, -1) when it could not run."""
        try:
            return tuple(self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").get)
        except apsw.Error as exc:
            # NOTE: a full disk or a lock is the writer's to report; the next tick tries again
            logger.debug("background checkpoint of {} did not run: {!r}", self.path, exc)
            return 1, -1, -1

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
