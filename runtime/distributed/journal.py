"""The effect journal of workers, kept in Redis so it outlives any worker.

A retried attempt may run on another machine, so the journal cannot live in a worker's memory
or in the coordinator's SQLite file (workers never open it). Redis is already the shared,
durable (AOF) meeting point of workers; each record is also forwarded to the coordinator so the
SQLite `tool_effects` table shows it.

Side-effecting calls are at most once: `lookup` also marks the call as started, with a marker
of its own (one per call of `lookup`, carrying the attempt). A later lookup that finds a marker
and no outcome — the call was begun by an attempt whose worker died, or by an attempt that lost
its lease while paused and may still be running it, on this worker or another — does not call
the tool again; the model gets an error saying the outcome is unknown. When the coordinator retries
a run it raises the run's fence to the new attempt first, so an older attempt that wakes up later
(a paused worker) starts no new side effect: the marker is set only below the fence, atomically.

Outcomes and markers are keys of their own that expire after the retention (Redis 7.0 cannot
expire a hash field), so the journal does not grow forever; the retention must outlast any run.
Entries in the hashes used before that are still read.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from agentstage.runtime._log import logger
from agentstage.runtime.state.records import ToolEffect
from agentstage.runtime.streams import StreamLayout
from agentstage.runtime.tools.journal import INTERRUPTED, run_of_key
from agentstage.runtime.transport import StreamTransport, until_reachable

__all__ = ["INTERRUPTED", "SUPERSEDED", "RedisJournal", "journal_entry", "restore_op"]

SUPERSEDED = "not started: this attempt of the run was superseded by a retry, which makes the call instead"


def journal_entry(effect: ToolEffect, attempt: int = 0) -> bytes:
    """The value of a completed effect's `{prefix}:effect:KEY` key."""
    return json.dumps({"result": effect.result, "run_id": effect.run_id, "tool": effect.tool, "ts": effect.ts,
                       "attempt": attempt}, default=str).encode()


def restore_op(layout: StreamLayout, effect: ToolEffect, retention: int | None) -> tuple:
    """The op writing back an effect the store recorded, unless Redis still has its entry (SET NX)."""
    return ("setnx", layout.effect_key(effect.key), journal_entry(effect), retention)


class RedisJournal:
    """`EffectJournal` over expiring `{prefix}:effect:KEY` keys; calls are retried through outages."""

    def __init__(self, transport: StreamTransport, layout: StreamLayout,
                 forward: Callable[[ToolEffect], None] | None = None, retention: int = 2_592_000) -> None:
        self.transport = transport
        self.layout = layout
        self.forward = forward
        self.retention = retention or None

    @property
    def intents(self) -> str:
        return f"{self.layout.prefix}:effect-intents"

    def lookup(self, key: str, attempt: int = 0) -> tuple[bool, Any]:
        # NOTE: the marker is this call's own (not the process's): the same worker may hold a superseded
        # attempt that began this very call. A retry of the round trip after an outage finds its own marker.
        marker = f"{attempt}:{uuid.uuid4().hex}"
        intent = self.layout.effect_intent_key(key)
        fence = self.layout.fence_key(run_of_key(key))
        raw, legacy, legacy_owner, marked, owner = until_reachable(lambda: self.transport.apply([
            ("get", self.layout.effect_key(key)), ("hget", self.layout.effects, key), ("hget", self.intents, key),
            ("mark", intent, marker, self.retention, fence, attempt), ("get", intent)]), "looking up a tool effect")
        if raw is not None or legacy is not None:
            if marked == 1:
                until_reachable(lambda: self.transport.apply([("del", intent)]), "clearing a tool effect marker")
            return True, json.loads(raw if raw is not None else legacy)["result"]
        if marked == -1:
            logger.info("side-effecting call {} not started: attempt {} of its run was superseded", key, attempt)
            return True, {"error": SUPERSEDED}
        if legacy_owner is not None or (owner is not None and owner.decode() != marker):
            logger.warning("side-effecting call {} was interrupted in an earlier attempt; not repeating it", key)
            return True, {"error": INTERRUPTED}
        return False, None

    def record(self, effect: ToolEffect, attempt: int = 0) -> None:
        payload = journal_entry(effect, attempt)
        until_reachable(lambda: self.transport.apply([
            ("set", self.layout.effect_key(effect.key), payload, self.retention),
            ("del", self.layout.effect_intent_key(effect.key))]), "recording a tool effect")
        if self.forward is not None:
            self.forward(effect)
