"""Checkpoints of a fan-out in progress hold only what changed: the branch that just finished.

While a parallel or map node runs, each finished branch is checkpointed as a step of its own. If each
of those held the run's state and every result so far, a map over n items would write O(n^2) bytes;
instead such a checkpoint's state is only `{FANOUT_KEY: <the branch finished at that step>}`, marked
`partial`. Reading a checkpoint (`merged`) rebuilds the full state: the last complete checkpoint
before it (the state the node began with, or a fork's copy) plus the results of the partial ones
since, so whoever resumes or forks from it sees every branch finished up to that step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["FANOUT_KEY", "advanced", "fanout_of", "merged", "partial_progress"]

FANOUT_KEY = "__fanout__"


def partial_progress(node: str, step: int, finished: dict[str, Any]) -> dict[str, Any]:
    """A branch checkpoint's whole state: the node, the step it began at, the result finished at this step."""
    return {FANOUT_KEY: {"node": node, "step": step, "done": dict(finished), "partial": True}}


def fanout_of(state: Any) -> dict[str, Any] | None:
    """The partial fan-out progress a checkpoint's state is, if it is one."""
    progress = state.get(FANOUT_KEY) if isinstance(state, dict) else None
    return progress if isinstance(progress, dict) and progress.get("partial") else None


def merged(row: dict[str, Any], earlier: Callable[[int, int], Iterable[dict[str, Any]]]) -> dict[str, Any]:
    """`row` (a checkpoint with its state) as a full checkpoint: a partial one gets the state and results of
    the checkpoints before it joined in. `earlier(first, last)` returns the rows with steps in [first, last]."""
    if fanout_of(row["state"]) is None:
        return row
    current: dict[str, Any] | None = None
    for other in sorted(earlier(0, int(row["step"])), key=lambda r: r["step"]):
        current = advanced(current, other)
    assert current is not None
    return {**row, "state": current["state"]}


def advanced(current: dict[str, Any] | None, latest: dict[str, Any]) -> dict[str, Any]:
    """The full checkpoint after `latest` follows the full checkpoint `current`: `latest` itself when complete;
    for a partial one, `current`'s state with the branch result added to the same fan-out's results (the
    coordinator keeps this for the retries of a running graph task, without reading the store)."""
    progress = fanout_of(latest["state"])
    if progress is None:
        return latest
    base = dict((current or {}).get("state") or {})
    before = base.pop(FANOUT_KEY, None)
    same = isinstance(before, dict) and (before.get("node"), before.get("step")) == (progress["node"], progress["step"])
    done = {**(before.get("done") or {} if same else {}), **(progress.get("done") or {})}
    return {**latest, "state": {**base, FANOUT_KEY: {"node": progress["node"], "step": progress["step"],
                                                     "done": done}}}
