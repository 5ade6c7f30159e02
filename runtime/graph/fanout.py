"""A parallel or map node in progress: which branches finished, which are running, which start next.

Progress lives in the run's state under `FANOUT_KEY` while the node runs; the checkpoint taken after
a branch finishes holds that branch's result, and reading it joins the earlier ones, so a resumed
run starts only the branches not finished. Branch
identity (child run ids, effect journal keys) comes from the step the node began at, kept there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentstage.runtime.graph.nodes import BranchNode, MapNode, ParallelNode, reduce_branches
from agentstage.runtime.state.fanout_state import FANOUT_KEY, partial_progress

__all__ = ["FANOUT_KEY", "Branch", "FanOut"]


@dataclass(frozen=True, slots=True)
class Branch:
    """One branch to run: its index, its node (with a name unique in the graph) and its state."""

    index: int
    node: BranchNode
    state: Mapping[str, Any]


@dataclass
class FanOut:
    """The branches of one parallel or map node and their results so far."""

    node: ParallelNode | MapNode
    step: int
    branches: list[Branch]
    done: dict[str, Any] = field(default_factory=dict)
    running: set[str] = field(default_factory=set)

    @classmethod
    def begin(cls, node: ParallelNode | MapNode, state: Mapping[str, Any], step: int) -> FanOut:
        """Start `node` at `step`, or pick up its progress from `state` (a resumed run); ValueError on bad items."""
        progress = state.get(FANOUT_KEY)
        done: dict[str, Any] = {}
        if isinstance(progress, dict) and progress.get("node") == node.name:
            step, done = int(progress["step"]), dict(progress.get("done") or {})
        clean = {k: v for k, v in state.items() if k != FANOUT_KEY}
        branches = [Branch(i, branch, branch_state) for i, (branch, branch_state) in enumerate(node.expand(clean))]
        return cls(node, step, branches, done)

    def start(self) -> list[Branch]:
        """The branches to start now (not finished, not running, within max_concurrency); marks them running."""
        limit = self.node.max_concurrency or len(self.branches)
        started = []
        for branch in self.branches:
            if len(self.running) >= limit:
                break
            if branch.node.name not in self.done and branch.node.name not in self.running:
                self.running.add(branch.node.name)
                started.append(branch)
        return started

    def branch(self, name: str) -> Branch | None:
        """The running branch called `name`, if any."""
        if name not in self.running:
            return None
        return next(b for b in self.branches if b.node.name == name)

    def finish(self, name: str, value: Any) -> None:
        self.running.discard(name)
        self.done[name] = value

    @property
    def remaining(self) -> int:
        return len(self.branches) - len(self.done)

    @property
    def complete(self) -> bool:
        return self.remaining == 0

    def progress(self) -> dict[str, Any]:
        """The progress a running node keeps under FANOUT_KEY: every result so far."""
        return {"node": self.node.name, "step": self.step, "done": dict(self.done)}

    def checkpointed(self, branch: str) -> dict[str, Any]:
        """The state of the checkpoint taken when `branch` finished: that result only (a read of the
        checkpoint joins the state and results before it, see `runtime/state/fanout_state.py`)."""
        return partial_progress(self.node.name, self.step, {branch: self.done[branch]})

    def joined(self) -> dict[str, Any]:
        """The node's state update: the reduced results, and for parallel nodes each branch's own key.

        Raises ValueError when the reducer cannot join the results.
        """
        names = [b.node.name for b in self.branches]
        values = [self.done[name] for name in names]
        update = {self.node.key: reduce_branches(self.node.reducer, names, values)}
        if isinstance(self.node, ParallelNode):
            update = {**{b.node.key: self.done[b.node.name] for b in self.branches}, **update}
        return update
