"""The collector's first threshold for a process that holds many runs in flight (AGENTSTAGE_GC_THRESHOLD).

CPython's generational collector runs a young-generation pass every 700 net allocations of
tracked objects, on the bet that most young objects die. A runtime holding hundreds of runs in
flight loses that bet: each run's messages, requests and records live for the whole model call,
so every pass traverses them again and promotes them, and the full passes that follow walk the
whole heap. With 500 model calls in flight, collection was about a fifth of a process's CPU.
A larger first threshold keeps the same collector and its guarantees (cycles are still freed),
it only collects less often. It is raised, never lowered, so an application's own tuning stands.
"""

from __future__ import annotations

import gc

from agentstage.runtime._log import logger

__all__ = ["raise_gc_threshold"]


def raise_gc_threshold(threshold: int) -> bool:
    """Raise the young generation's threshold to `threshold` when it is lower; returns whether it changed.

    0 leaves the collector as the application set it, as does a collector that is disabled.
    """
    if threshold <= 0 or not gc.isenabled():
        return False
    young, middle, old = gc.get_threshold()
    if young == 0 or young >= threshold:
        return False
    gc.set_threshold(threshold, middle, old)
    logger.debug("garbage collection threshold raised from {} to {} allocations", young, threshold)
    return True
