"""The effect journal of workers, kept in Redis so it outlives any worker.

A retried attempt may run on another machine, so the journal cannot live in a worker's memory
or in the coordinator's SQLite file (workers never open it). Redis is already the shared,
durable (AOF) meeting point of workers; each record is also forwarded to the coordinator so the
SQLite `tool_effects` table shows it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import redis
from loguru import logger

from agentstage.runtime.state.records import ToolEffect
from agentstage.runtime.streams import REDIS_DOWN, ReconnectBackoff, StreamLayout

__all__ = ["RedisJournal"]


class RedisJournal:
    """`EffectJournal` over the `{prefix}:effects` hash; calls are retried through Redis outages."""

    def __init__(self, url: str, layout: StreamLayout, forward: Callable[[ToolEffect], None] | None = None) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self.layout = layout
        self.forward = forward

    def lookup(self, key: str) -> tuple[bool, Any]:
        raw = self._retry(lambda: self.client.hget(self.layout.effects, key))
        return (False, None) if raw is None else (True, json.loads(raw)["result"])

    def record(self, effect: ToolEffect) -> None:
        payload = json.dumps({"result": effect.result, "run_id": effect.run_id, "tool": effect.tool, "ts": effect.ts},
                             default=str)
        self._retry(lambda: self.client.hset(self.layout.effects, effect.key, payload))
        if self.forward is not None:
            self.forward(effect)

    def close(self) -> None:
        self.client.close()

    def _retry(self, call: Callable[[], Any]) -> Any:
        backoff = ReconnectBackoff()
        while True:
            try:
                return call()
            except REDIS_DOWN as exc:
                logger.warning("effect journal: redis unavailable ({}); retrying", exc)
                backoff.wait()
