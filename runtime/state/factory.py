"""Pick the state backend from `AGENTSTAGE_STATE` (sqlite, redis, hybrid) and build its writer and readers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentstage.runtime.config import Config
from agentstage.runtime.errors import ConfigError, StoreError
from agentstage.runtime.state.base import StoreReader, StoreWriter
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.sqlite import SQLiteWriter

if TYPE_CHECKING:
    import redis

    from agentstage.runtime.state.hybrid import Pending

__all__ = ["BACKENDS", "StateBackend"]

BACKENDS = ("sqlite", "redis", "hybrid")


class StateBackend:
    """The configured state backend of one process: one writer (for the StoreActor), readers per thread.

    Raises ConfigError for an unknown `AGENTSTAGE_STATE`. The Redis client is shared by the writer
    and the readers and closed by `close()`. The Redis backends' modules are imported only when chosen.
    """

    def __init__(self, config: Config, *, client: redis.Redis | None = None) -> None:
        if config.state not in BACKENDS:
            raise ConfigError("AGENTSTAGE_STATE", config.state, "expected sqlite, redis or hybrid")
        self.config = config
        self.kind = config.state
        self.client = client if client is not None or self.kind == "sqlite" else _connect(config.redis_url)
        self._owns_client = client is None
        self.pending: Pending | None = None
        if self.kind == "hybrid":
            from agentstage.runtime.state.hybrid import Pending

            self.pending = Pending()
        kwargs = (self.client.connection_pool.connection_kwargs if self.client is not None else {})
        self.where = f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"

    def writer(self) -> StoreWriter:
        """The single writer; raises StoreError when the file (or, for `redis`, the server) is unusable."""
        config = self.config
        if self.kind == "redis":
            from agentstage.runtime.state.redis_store import RedisWriter

            writer = RedisWriter(self.client, config.stream_prefix, ttl=config.state_redis_ttl, where=self.where)
            health = writer.health()
            if not health.ok:
                raise StoreError(self.where, health.reason)
            return writer
        sqlite = SQLiteWriter(config.state_path, busy_timeout_ms=config.busy_timeout_ms)
        if self.kind == "sqlite":
            return sqlite
        from agentstage.runtime.state.hybrid import HybridWriter

        return HybridWriter(sqlite, self.client, config.stream_prefix, ttl=config.state_redis_ttl, pending=self.pending)

    def reader(self) -> StoreReader:
        """A new reader; SQLite-backed readers hold a connection, so open one per thread."""
        config = self.config
        if self.kind == "redis":
            from agentstage.runtime.state.redis_reader import RedisReader

            return RedisReader(self.client, config.stream_prefix, where=self.where)
        sqlite = SQLiteReader(config.state_path)
        if self.kind == "sqlite":
            return sqlite
        from agentstage.runtime.state.hybrid_reader import HybridReader

        return HybridReader(sqlite, self.client, config.stream_prefix, ttl=config.state_redis_ttl,
                            pending=self.pending)

    def close(self) -> None:
        if self.client is not None and self._owns_client:
            self.client.close()


def _connect(url: str) -> redis.Redis:
    from agentstage.runtime.state.redis_layout import connect

    return connect(url)
