"""The effect journal of workers, kept in Redis so it outlives any worker.

A retried attempt may run on another machine, so the journal cannot live in a worker's memory
or in the coordinator's SQLite file (workers never open it). Redis is already the shared,
durable (AOF) meeting point of workers; each record is also forwarded to the coordinator so the
SQLite `tool_effects` table shows it.

Side-effecting calls are at most once: `lookup` also marks the call as started by this process.
When a later attempt finds a call started elsewhere and never recorded (its worker died during
the call), it does not call the tool again; the model gets an error saying the outcome is unknown.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from agentstage.runtime._log import logger
from agentstage.runtime.state.records import ToolEffect
from agentstage.runtime.streams import StreamLayout
from agentstage.runtime.tools.journal import INTERRUPTED
from agentstage.runtime.transport import StreamTransport, until_reachable

__all__ = ["INTERRUPTED", "RedisJournal"]


class RedisJournal:
    """`EffectJournal` over the `{prefix}:effects` hash; calls are retried through outages."""

    def __init__(self, transport: StreamTransport, layout: StreamLayout,
                 forward: Callable[[ToolEffect], None] | None = None) -> None:
        self.transport = transport
        self.layout = layout
        self.forward = forward
        self.token = uuid.uuid4().hex

    @property
    def intents(self) -> str:
        return f"{self.layout.prefix}:effect-intents"

    def lookup(self, key: str) -> tuple[bool, Any]:
        raw, _, owner = until_reachable(lambda: self.transport.apply([
            ("hget", self.layout.effects, key), ("hsetnx", self.intents, key, self.token),
            ("hget", self.intents, key)]), "looking up a tool effect")
        if raw is not None:
            return True, json.loads(raw)["result"]
        if owner is not None and owner.decode() != self.token:
            logger.warning("side-effecting call {} was interrupted in an earlier attempt; not repeating it", key)
            return True, {"error": INTERRUPTED}
        return False, None

    def record(self, effect: ToolEffect) -> None:
        payload = json.dumps({"result": effect.result, "run_id": effect.run_id, "tool": effect.tool, "ts": effect.ts},
                             default=str)
        until_reachable(lambda: self.transport.apply([("hset", self.layout.effects, effect.key, payload),
                                                      ("hdel", self.intents, effect.key)]), "recording a tool effect")
        if self.forward is not None:
            self.forward(effect)
