"""System: the embedding API — start the actors, run agents, read results, stop cleanly.

    from agentstage.runtime import Config, System

    with System(Config.from_env()) as system:
        result = system.run("What is 6 * 7?")
        print(result.output)

The CLI uses exactly this; an application embedding agentstage gets the same behaviour.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pykka

from agentstage.runtime._log import logger
from agentstage.actors.agent import AgentActor, CancelRun, StartRun
from agentstage.actors.nodes import notifying
from agentstage.runtime.wire import RunAgent, RunResult
from agentstage.actors.observer import AsyncSubscription, ObserverActor, Subscribe, Subscription, Unsubscribe
from agentstage.actors.pool import AgentPool
from agentstage.actors.store import StoreActor, StoreJournal, Write
from agentstage.actors.supervision import Slot
from agentstage.actors.telemetry import Telemetry, TelemetrySubscription, start_telemetry
from agentstage.runtime.agents import AgentSpec
from agentstage.runtime.aio import IOLoop
from agentstage.runtime.clock import new_id, short_id, utc_now
from agentstage.runtime.config import Config
from agentstage.runtime.system.delegation import with_delegation
from agentstage.runtime.errors import ConfigError, NotApplicable, NotFound, Refused, RunAborted
from agentstage.runtime.futures import Reply, settled
from agentstage.runtime.system.graph_api import NOT_EXECUTING, GraphMethods
from agentstage.runtime.flows import FlowRegistry, flow_dir
from agentstage.runtime.gc_policy import raise_gc_threshold
from agentstage.runtime.prompts import PromptRegistry, prompt_dir
from agentstage.runtime.skills import SkillRegistry, skill_dirs
from agentstage.runtime.system.graph_runs import GraphHandle, last_seq
from agentstage.runtime.system.interrupted import interrupted_runs
from agentstage.runtime.llm.factory import create_provider, resolve_provider_name
from agentstage.runtime.llm.types import Provider
from agentstage.runtime.owner import RunOwner
from agentstage.runtime.state.base import StoreReader, StoreWriter
from agentstage.runtime.state.factory import StateBackend
from agentstage.runtime.state.health import Health
from agentstage.runtime.state.reader import Page, RunRow, SQLiteReader
from agentstage.runtime.state.records import Event, Record
from agentstage.actors.session_items import StoreSessionItems
from agentstage.runtime.integrations.bound import BoundWorkflows
from agentstage.runtime.integrations.catalog import ToolCatalog
from agentstage.runtime.secops import workflow as secops
from agentstage.runtime.integrations.credentials import CredentialResolver
from agentstage.runtime.tools.builtin import builtin_registry
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.registry import ToolRegistry
from agentstage.runtime.tools.session import SessionBinding

if TYPE_CHECKING:
    from agentstage.runtime.control import RunControl
    from agentstage.runtime.schedules import Firing

__all__ = ["RunHandle", "System"]


@dataclass(frozen=True, slots=True)
class RunHandle:
    """A run in progress: its ids now, its RunResult once durable."""

    run_id: str
    session_id: str
    future: pykka.Future[RunResult]

    def result(self, timeout: float | None = None) -> RunResult:
        """Wait for the run to end; raises pykka.Timeout after `timeout` seconds."""
        return self.future.get(timeout=timeout)

    async def result_async(self, timeout: float | None = None) -> RunResult:
        """`result` awaited on the running event loop, holding no thread while the run goes on."""
        return await settled(self.future, timeout)


class System(GraphMethods):
    """The agentstage runtime in this process; use it as a context manager.

    Args:
        config: settings (default: `Config.from_env()`).
        agents: agent specs; a `default` agent built from `config` is added unless given.
        tools: the tool registry agents select from (default: the built-in tools and bundles, plus the
            `secops` agent serving the `secops` workflow).
        providers: provider instances by agent name, overriding the configured provider.
        executes: False for a System that records, reads and steers runs but runs none itself (the API
            in queued mode, whose runs execute on workers): no agent pools or graph actors start.
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        agents: Iterable[AgentSpec] = (),
        tools: ToolRegistry | None = None,
        providers: dict[str, Provider] | None = None,
        executes: bool = True,
    ) -> None:
        self.config = config if config is not None else Config.from_env()
        self.executes = executes
        self.tool_context = ToolContext.from_config(self.config, StoreSessionItems(lambda: self.store, self.reader))
        self.tools = tools if tools is not None else builtin_registry(self.tool_context)
        self.credentials = CredentialResolver.from_config(self.config)
        self.catalog = ToolCatalog(self.tools, self.tool_context, self.credentials, self.write, self.reader)
        self._specs = {spec.name: spec for spec in agents}
        self._specs.setdefault("default", AgentSpec.from_config(self.config))
        if tools is None:
            self._specs.setdefault(secops.AGENT, secops.agent_spec(self.config))
        self.catalog.on_binding = self._rebind
        self._provider_overrides = dict(providers or {})
        self._pools: dict[str, AgentPool] = {}
        self._providers: list[Provider] = []
        self._subscriptions: list[Subscription] = []
        self._cancelled: set[str] = set()
        self._readers: list[StoreReader] = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._owner: dict[str, Any] = {}
        self._state: StateBackend | None = None
        self._writer: StoreWriter | None = None
        self.store: Slot | None = None
        self.observer: Slot | None = None
        self.journal: StoreJournal | None = None
        self.scheduler: Slot | None = None
        self.telemetry: Telemetry | None = None
        self.io = IOLoop(blocking_threads=self.config.blocking_threads)
        self._init_graphs()
        self.prompts = PromptRegistry(prompt_dir(self.config))
        self.skills = SkillRegistry(skill_dirs(self.config))
        self.flows = FlowRegistry(flow_dir(self.config))
        if tools is None:
            secops.register_app(self.workflows, self.tools)
        self._bound = BoundWorkflows(self.catalog, self.workflows, self._specs.get,
                                     lambda spec, base: self.add_variant(base, spec))

    def __enter__(self) -> System:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.store is not None

    def start(self) -> System:
        """Open the store and start the observer, store and agent pools; raises StoreError/ConfigError."""
        if self.running:
            return self
        raise_gc_threshold(self.config.gc_threshold)
        self._state = StateBackend(self.config)
        try:
            self.io.start()
            self._writer = self._state.writer()
            self._start_telemetry()
            self.observer = Slot("observer", lambda slot: ObserverActor.start(slot, self._subscriptions))
            writer = self._writer
            self.store = Slot("store", lambda slot: StoreActor.start(writer, self.observer, slot))
            self.journal = StoreJournal(self.store, self.reader)
            self._fail_interrupted()
            self.catalog.load(self.config.tool_spec_dir)
            self._start_graphs()
            if self.executes:
                for spec in list(self._specs.values()):
                    self._start_pool(spec)
                assert self.graphs is not None
                self.graphs.owner = self._owner
            self._bound.apply_all()
        except BaseException:
            self.stop()
            raise
        return self

    def _fail_interrupted(self) -> None:
        """Record as failed the runs a dead process of this host left running or queued in this store."""
        self._owner = RunOwner.current().to_data()
        interrupted = interrupted_runs(self.reader())
        if interrupted:
            logger.warning("{} runs were interrupted by the death of their process; recorded as failed",
                           len(interrupted))
            self.write(interrupted)

    def add_agent(self, spec: AgentSpec, provider: Provider | None = None) -> None:
        """Register (or replace) an agent spec; its pool starts now when the System runs."""
        with self._lock:
            self._specs[spec.name] = spec
            if provider is not None:
                self._provider_overrides[spec.name] = provider
            old = self._pools.pop(spec.name, None)
        if old is not None:
            old.drain(time.monotonic() + self.config.run_timeout)
            old.stop(self.config.run_timeout)
        if self.running and self.executes:
            self._start_pool(spec)

    def add_variant(self, base: str, spec: AgentSpec) -> None:
        """Register `spec` as a variant of agent `base`, served by the provider instance given for `base` if any."""
        self.add_agent(spec, self._provider_overrides.get(base))

    def _start_pool(self, spec: AgentSpec) -> None:
        provider = self._provider_overrides.get(spec.name) or create_provider(self.config, spec.provider)
        self._providers.append(provider)
        unknown = [a for a in (*spec.delegates, *spec.handoffs) if a not in self._specs]
        if unknown:
            raise ConfigError("AgentSpec.delegates/handoffs", unknown[0], f"agent {spec.name!r} names an unknown agent")
        spec, agent_tools = with_delegation(spec, self._start_child)
        for tool in agent_tools:
            self.tools.register(tool)
        try:
            tools = self.tools.select(self.catalog.selection_for(spec.name, spec.tools))
        except NotFound as exc:
            raise ConfigError("AGENTSTAGE_TOOLS", exc.key, f"agent {spec.name!r} asks for an unknown {exc.kind}") from None
        spec = dataclasses.replace(spec, middleware=(*spec.middleware, SessionBinding(tools)))
        store, journal, observer = self.store, self.journal, self.observer
        assert store is not None
        member = AgentActor.member(spec, provider, tools, store, journal, self.io, observer=observer,
                                   cancelled=self._is_cancelled, tool_threads=self.config.tool_threads,
                                   owner=self._owner)
        self._pools[spec.name] = AgentPool(f"agent:{spec.name}", spec.pool_size, member,
                                           limit=self.config.max_runs, on_queued=self._queued)

    def _start_child(self, agent: str, prompt: str, parent_run_id: str,
                     done: Callable[[Any, BaseException | None], None]) -> str:
        """Start agent `agent` on `prompt` as a child run of `parent_run_id` (own session); `done` gets its result."""
        pool = self._pools.get(agent)
        if pool is None:
            raise NotFound("agent", agent)
        request = RunAgent(f"{parent_run_id}.{agent}.{short_id()}", new_id(), prompt, agent,
                           metadata={"parent_run_id": parent_run_id})
        pool.dispatch(StartRun(request, notifying(done)))
        return request.run_id

    def _queued(self, start: StartRun) -> StartRun:
        """A run waits for admission: `run.queued` records it now; its own events follow that one."""
        request = start.request
        self.write((Event(request.run_id, request.first_seq, "run.queued", utc_now(), request.session_id, {
            "kind": "agent", "agent": request.agent, "input": request.prompt, "attempt": request.attempt,
            "metadata": request.metadata, "reason": "the agent is at its limit of runs in flight",
            "owner": self._owner}),), wait=False)
        return StartRun(dataclasses.replace(request, first_seq=request.first_seq + 1), start.reply)

    def _rebind(self, workflow: str) -> None:
        """A workflow's tool binding changed: restart the pools of the agents serving it."""
        if not self.running:
            return
        spec = self._specs.get(workflow)
        if spec is not None:
            self.add_agent(spec)
        self._bound.apply(workflow)

    def agents(self) -> list[AgentSpec]:
        return list(self._specs.values())

    def provider_name(self, agent: str) -> str:
        """The name of the provider agent `agent` calls (its override's, else the configured one's)."""
        override = self._provider_overrides.get(agent)
        if override is not None:
            return override.name
        spec = self._specs.get(agent)
        if spec is None:
            raise NotFound("agent", agent)
        return resolve_provider_name(self.config, spec.provider)

    def run_async(
        self,
        prompt: str,
        *,
        agent: str = "default",
        session: str | None = None,
        metadata: dict[str, Any] | None = None,
        run_id: str | None = None,
    ) -> RunHandle:
        """Start a run and return at once; the handle's future gives the durable RunResult.

        Raises NotFound for an unknown agent and RunAborted for an empty prompt.
        """
        if not self.running:
            raise RuntimeError("System is not started; use it as a context manager or call start()")
        if not self.executes:
            raise NotApplicable("run", NOT_EXECUTING)
        if not isinstance(prompt, str) or not prompt.strip():
            raise RunAborted("the prompt is empty")
        pool = self._pools.get(agent)
        if pool is None:
            raise NotFound("agent", agent)
        history = self.reader().session_history(session) if session else ()
        request = RunAgent(run_id or new_id(), session or new_id(), prompt, agent, history,
                           metadata=dict(metadata or {}))
        reply: Reply[RunResult] = Reply()
        pool.dispatch(StartRun(request, reply))
        return RunHandle(request.run_id, request.session_id, reply)

    def run(self, prompt: str, *, timeout: float | None = None, **options: Any) -> RunResult:
        """Run a prompt to the end and return its RunResult (status completed or failed)."""
        return self.run_async(prompt, **options).result(timeout if timeout is not None else self.config.run_timeout)

    def _is_cancelled(self, run_id: str, attempt: int) -> bool:
        """The cancel check of agents and graphs: a local cancel stops every attempt of the run."""
        return run_id in self._cancelled

    def cancel(self, run_id: str) -> None:
        """Stop a local run: at once while it is queued or waits on the model, else at its next step boundary."""
        self._cancelled.add(run_id)
        for pool in list(self._pools.values()):
            if pool.admit_now(lambda m: isinstance(m, StartRun) and m.request.run_id == run_id):
                return
            pool.broadcast(CancelRun(run_id))

    def requeue(self, run_id: str) -> RunHandle | GraphHandle:
        """Run a failed or cancelled run again as its next attempt (a graph run from its latest checkpoint).

        Raises NotFound for an unknown run and Refused when the run is neither failed nor cancelled.
        """
        row = self.reader().get_run(run_id)
        if row.status not in ("failed", "cancelled"):
            raise Refused(run_id, f"run {run_id} is {row.status}; only failed or cancelled runs are requeued")
        self._cancelled.discard(run_id)
        seq, attempt = last_seq(self.reader(), run_id) + 1, row.attempt + 1
        self.write((Event(run_id, seq, "run.queued", utc_now(), row.session_id,
                          {"attempt": attempt, "reason": "requeued", "owner": self._owner}),))
        if row.kind == "graph":
            return self._running_graphs().requeue_async(row, attempt, seq + 1)
        pool = self._pools.get(row.agent or "default")
        if pool is None:
            raise NotFound("agent", row.agent or "default")
        request = RunAgent(run_id, row.session_id, row.input, row.agent or "default",
                           self.reader().session_history(row.session_id), attempt, seq + 1, dict(row.metadata))
        reply: Reply[RunResult] = Reply()
        pool.dispatch(StartRun(request, reply))
        return RunHandle(run_id, row.session_id, reply)

    def _start_telemetry(self) -> None:
        """Export each settled run's spans when `config.otel` asks for it (interrupted runs found at start too)."""
        self.telemetry = start_telemetry(self.config, self.reader)
        if self.telemetry is not None:
            self._subscriptions.append(TelemetrySubscription(self.telemetry))

    def subscribe(self, run_id: str | None = None, types: Iterable[str] | None = None) -> Subscription:
        """Live feed of durable events (of one run when `run_id` is given); close it when done."""
        if self.observer is None:
            raise RuntimeError("System is not started")
        subscription = Subscription(run_id, frozenset(types) if types is not None else None)
        observer = self.observer
        subscription._close = lambda: observer.tell(Unsubscribe(subscription))
        observer.tell(Subscribe(subscription))
        return subscription

    def subscribe_async(self, run_id: str | None = None, types: Iterable[str] | None = None, *,
                        bound: int = 10_000) -> AsyncSubscription:
        """Like `subscribe`, read with `await get()` on the running event loop; ends itself past `bound`."""
        if self.observer is None:
            raise RuntimeError("System is not started")
        subscription = AsyncSubscription(asyncio.get_running_loop(), run_id,
                                         frozenset(types) if types is not None else None, bound)
        observer = self.observer
        subscription._close = lambda: observer.tell(Unsubscribe(subscription))
        observer.tell(Subscribe(subscription))
        return subscription

    def write(self, records: Iterable[Record], *, wait: bool = True, timeout: float | None = None) -> None:
        """Persist `records` in one transaction through the store actor; with `wait`, return once durable.

        Raises StoreError when the write fails and pykka.Timeout after `timeout` seconds.
        """
        if self.store is None:
            raise RuntimeError("System is not started")
        reply: pykka.Future[None] | None = pykka.ThreadingFuture() if wait else None
        self.store.tell(Write(tuple(records), reply))
        if reply is not None:
            reply.get(timeout=timeout if timeout is not None else self.config.run_timeout)

    def _close_provider(self, provider: Provider) -> None:
        provider.close()
        if self.io.running:
            try:
                self.io.run(provider.aclose(), timeout=2.0)
            except Exception as exc:  # NOTE: closing connections at shutdown must not stop the shutdown
                logger.debug("provider {} did not close cleanly: {!r}", provider.name, exc)

    def reader(self) -> StoreReader:
        """A reader of the configured state backend for the calling thread."""
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._state.reader() if self._state is not None else SQLiteReader(self.config.state_path)
            self._local.reader = reader
            with self._lock:
                self._readers.append(reader)
        return reader

    def health(self) -> Health:
        """The state store's health: ok, degraded (Hybrid serving from SQLite while Redis is down) or down."""
        if self._writer is None:
            return Health("down", "System is not started")
        return self._writer.health()

    def get_run(self, run_id: str) -> RunRow:
        return self.reader().get_run(run_id)

    def list_runs(self, **filters: Any) -> Page:
        return self.reader().list_runs(**filters)

    def events(self, run_id: str, after_seq: int = 0) -> list[Event]:
        """A run's stored events after `after_seq`: the same `Event` records `subscribe` delivers."""
        return self.reader().events(run_id, after_seq=after_seq)

    def start_scheduler(self, control: RunControl, *, firing: Firing | None = None) -> Firing:
        """Fire the stored schedules from this process through `control`, checking every `scheduler_poll` s.

        Other processes may do the same on this store: a lease per tick lets one of them fire it.
        Returns the Firing (its `trigger` starts a schedule by hand); stopped by `stop`.
        """
        from agentstage.actors.scheduler import SchedulerActor
        from agentstage.runtime.schedules import Firing

        if not self.running:
            raise RuntimeError("System is not started")
        if self.scheduler is not None:
            raise RuntimeError("this System already runs a scheduler")
        firing = firing if firing is not None else Firing(self, control)
        poll = self.config.scheduler_poll
        self.scheduler = Slot("scheduler", lambda slot: SchedulerActor.start(firing, self.io, poll, slot))
        return firing

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the scheduler, graphs and agents first, then the store (flushing pending writes), then the observer."""
        if self.scheduler is not None:
            self.scheduler.stop(timeout)
            self.scheduler = None
        self._stop_graphs(timeout)
        deadline = time.monotonic() + timeout / 2
        for pool in self._pools.values():
            pool.drain(deadline)
        for pool in self._pools.values():
            pool.stop(timeout)
        self._pools.clear()
        for slot in (self.store, self.observer):
            if slot is not None:
                slot.stop(timeout)
        self.store = self.observer = self.journal = None
        if self.telemetry is not None:
            self._subscriptions[:] = [s for s in self._subscriptions if not isinstance(s, TelemetrySubscription)]
            self.telemetry.stop(timeout)
            self.telemetry = None
        for provider in self._providers:
            self._close_provider(provider)
        self._providers.clear()
        self.io.stop(timeout)
        with self._lock:
            readers, self._readers = self._readers, []
        for reader in readers:
            reader.close()
        self._local = threading.local()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._state is not None:
            self._state.close()
            self._state = None
