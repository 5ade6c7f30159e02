"""The data of agent runs in hand: one `AgentRun` per run, in a table shared by an actor's incarnations.

An agent actor holds many runs at once. Each run is plain data: its conversation, iteration,
the answer it waits for (`token` tells a current answer from a stale one) and its tool batch.
The table outlives a crashed actor: the successor started by the slot continues every run
the crash did not touch, because answers are addressed to the slot, not to one actor.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

import pykka

from agentstage.runtime.wire import RunAgent, RunResult
from agentstage.actors.run_log import RunLog
from agentstage.runtime.aio import Deadline, IOCall
from agentstage.runtime.llm.types import ChatMessage, LLMRequest, ToolCall, ToolSpec
from agentstage.runtime.middleware import RunContext, ToolOutcome

__all__ = ["AgentRun", "RunsInHand", "StartRun", "ToolBatch"]


@dataclass(frozen=True, slots=True)
class StartRun:
    """Run `request`; `reply` receives the RunResult once it is durable."""

    request: RunAgent
    reply: pykka.Future[RunResult]


@dataclass
class ToolBatch:
    """The tool calls of one turn, in call order, and the outcomes that have come back."""

    calls: list[ToolCall]
    outcomes: list[ToolOutcome | None]
    replayed: list[bool]
    durations: list[float]
    started: float
    submitted: int = 0
    waiting: int = 0
    deadlines: dict[int, Deadline] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return all(outcome is not None for outcome in self.outcomes)


@dataclass(slots=True)
class AgentRun:
    """One run being executed: where it is in the loop and what it waits for.

    `turns` counts the turns taken since the run's last message, so that a run whose answers all
    come inline (inline provider and tools) still yields the actor now and then. Slotted: an actor
    holds thousands of these at once.
    """

    start: StartRun
    log: RunLog
    messages: list[ChatMessage]
    specs: tuple[ToolSpec, ...]
    token: int = 0
    ctx: RunContext | None = None
    llm_request: LLMRequest | None = None
    attempt: int = 0
    step_started: float = 0.0
    batch: ToolBatch | None = None
    pending: IOCall | None = None
    cancel_requested: bool = False
    turns: int = 0
    key: int = 0
    """This run's entry in `RunsInHand.runs`: two attempts of one run may be in hand at once."""

    @property
    def run_id(self) -> str:
        return self.start.request.run_id

    @property
    def request(self) -> RunAgent:
        return self.start.request

    def wait(self) -> int:
        """Start waiting for a new answer; answers carrying an older token are ignored."""
        self.token += 1
        return self.token


@dataclass
class RunsInHand:
    """The runs of one pool member and the executor for its blocking tool calls."""

    name: str
    tool_threads: int
    runs: dict[int, AgentRun] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    executor: concurrent.futures.ThreadPoolExecutor | None = None
    _keys: itertools.count = field(default_factory=lambda: itertools.count(1))

    def next_key(self) -> int:
        """A key no run in hand has (runs are keyed apart, not by run id)."""
        return next(self._keys)

    def tool_executor(self) -> concurrent.futures.ThreadPoolExecutor:
        if self.executor is None:
            self.executor = concurrent.futures.ThreadPoolExecutor(self.tool_threads, thread_name_prefix=f"tools-{self.name}")
        return self.executor

    def replace_executor(self) -> None:
        """A tool call timed out and still holds a thread: later calls get fresh threads."""
        # NOTE: a Python thread cannot be killed; the old executor finishes what it holds, then exits.
        old, self.executor = self.executor, None
        if old is not None:
            old.shutdown(wait=False)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None
