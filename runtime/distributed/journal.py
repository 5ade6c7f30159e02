"""The effect journal of workers, kept in Redis so it outlives any worker.

A retried attempt may run on another machine, so the journal cannot live in a worker's memory
or in the coordinator's SQLite file (workers never open it). Redis is already the shared,
durable (AOF) meeting point of workers; each record is also forwarded to the coordinator so the
SQLite `tool_effects` table shows it.

Side-effecting calls are at most once: `lookup` also marks the call as started, with a marker
of its own (one per call of `lookup`, carrying the attempt). A later lookup that finds a marker
and no outcome — the call was begun by an attempt whose worker died, or by an attempt that lost
its lease while paused and may still be running it, on this worker or another — does not call
the tool again; the model gets an error saying the outcome is unknown.
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

    @property
    def intents(self) -> str:
        return f"{self.layout.prefix}:effect-intents"

    def lookup(self, key: str, attempt: int = 0) -> tuple[bool, Any]:
        # NOTE: the marker is this call's own (not the process's): the same worker may hold a superseded
        # attempt that began this very call. A retry of the round trip after an outage finds its own marker.
        marker = f"{attempt}:{uuid.uuid4().hex}"
        raw, _, owner = until_reachable(lambda: self.transport.apply([
            ("hget", self.layout.effects, key), ("hsetnx", self.intents, key, marker),
            ("hget", self.intents, key)]), "looking up a tool effect")
        if raw is not None:
            return True, json.loads(raw)["result"]
        if owner is not None and owner.decode() != marker:
            logger.warning("side-effecting call {} was interrupted in an earlier attempt; not repeating it", key)
            return True, {"error": INTERRUPTED}
        return False, None

    def record(self, effect: ToolEffect, attempt: int = 0) -> None:
        payload = json.dumps({"result": effect.result, "run_id": effect.run_id, "tool": effect.tool, "ts": effect.ts,
                              "attempt": attempt}, default=str)
        until_reachable(lambda: self.transport.apply([("hset", self.layout.effects, effect.key, payload),
                                                      ("hdel", self.intents, effect.key)]), "recording a tool effect")
        if self.forward is not None:
            self.forward(effect)
