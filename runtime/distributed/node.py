"""Process wiring of the distributed runtime: a coordinator node and a worker node.

Each node starts its actors and threads in dependency order and stops them in reverse; the CLI
verbs `runtime-start` and `worker-start` run one node until SIGTERM/SIGINT.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pykka

from agentstage.runtime._log import logger
from agentstage.actors.agent import AgentActor
from agentstage.actors.bridge import BridgeActor, Send, StreamReader
from agentstage.actors.coordination import Delivered, Load, Tick
from agentstage.actors.coordinator import CoordinatorActor
from agentstage.actors.heartbeat import WorkerMonitor
from agentstage.actors.agent_run import StartRun
from agentstage.actors.nodes import notifying
from agentstage.runtime.clock import new_id, short_id
from agentstage.runtime.system.delegation import with_delegation
from agentstage.runtime.wire import RunAgent, TaskReleased, to_wire
from agentstage.actors.pool import AgentPool
from agentstage.actors.reaper import Reaper
from agentstage.actors.sink import TaskStreamSink
from agentstage.actors.store import StoreActor, Write
from agentstage.actors.telemetry import Telemetry, start_telemetry
from agentstage.actors.supervision import Slot
from agentstage.actors.worker import Claimed, Finished, WorkerActor, WorkerState
from agentstage.runtime.agents import AgentSpec
from agentstage.runtime.aio import IOLoop
from agentstage.runtime.config import Config
from agentstage.runtime.errors import ConfigError, NotFound, StoreError
from agentstage.runtime.errors import Refused as RunRefused
from agentstage.runtime.gc_policy import raise_gc_threshold
from agentstage.runtime.llm.factory import create_provider
from agentstage.runtime.llm.types import Provider
from agentstage.runtime.distributed.catalog_feed import fetch_catalog, publish_catalog
from agentstage.runtime.distributed.journal import RedisJournal
from agentstage.runtime.distributed.worker_catalog import WorkerCatalog
from agentstage.runtime.integrations.bound import BoundWorkflows
from agentstage.runtime.distributed.reach import check_url, wait_for_redis
from agentstage.runtime.distributed.reconciler import Reconciler, wait_until_reconciled
from agentstage.runtime.system.graph_runs import GraphRuns, workflow_dir
from agentstage.runtime.workflow import WorkflowRegistry, default_registry
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.records import Event
from agentstage.runtime.state.sqlite import SQLiteWriter
from agentstage.runtime.streams import COORDINATOR_GROUP, WORKERS_GROUP, StreamLayout
from agentstage.runtime.secops import workflow as secops
from agentstage.runtime.tools.builtin import builtin_registry
from agentstage.runtime.distributed.session_items import CoordinatorSessionItems
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.session import SessionBinding
from agentstage.runtime.tools.registry import ToolRegistry
from agentstage.runtime.transport import UNAVAILABLE, RedisTransport, Refused, StreamTransport

__all__ = ["CoordinatorNode", "TaskHistory", "WorkerNode", "WorkerSetup", "default_worker_id", "load_setup"]


@dataclass
class WorkerSetup:
    """What an application adds to its workers: agent specs, tools, provider instances by agent name."""

    agents: Iterable[AgentSpec] = ()
    tools: ToolRegistry | None = None
    providers: dict[str, Provider] = field(default_factory=dict)
    workflows: WorkflowRegistry | None = None


def load_setup(target: str) -> WorkerSetup:
    """Import `module:function` and call it for a WorkerSetup; raises ConfigError naming the target."""
    module_name, _, attribute = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute or "setup")
        setup = factory()
    except (ImportError, AttributeError, TypeError) as exc:
        raise ConfigError("--app", target, f"cannot load the worker setup: {exc}") from None
    if not isinstance(setup, WorkerSetup):
        raise ConfigError("--app", target, "the function must return a WorkerSetup")
    return setup


@dataclass(frozen=True, slots=True)
class _Known:
    """What a task told a worker of one stored child run."""

    last_seq: int
    attempt: int


class TaskHistory:
    """What a worker knows of stored runs: only what its graph tasks carry (it never opens the store).

    Graph tasks carry their checkpoint, first event seq and the progress of their child agent runs
    (`Task.children`), so a node's agent run started again continues its numbering (attempt and
    event seq) instead of colliding with what an earlier attempt recorded.
    """

    def __init__(self) -> None:
        self._known: dict[str, _Known] = {}
        self._lock = threading.Lock()

    def note(self, children: dict[str, Any]) -> None:
        """Remember the child runs of a graph task being started (id -> [last seq, attempts])."""
        with self._lock:
            for child, (last_seq, attempt) in children.items():
                self._known[child] = _Known(int(last_seq), int(attempt))

    def forget(self, children: dict[str, Any]) -> None:
        with self._lock:
            for child in children:
                self._known.pop(child, None)

    def get_run(self, run_id: str) -> Any:
        with self._lock:
            found = self._known.get(run_id)
        if found is None:
            raise NotFound("run", run_id)
        return found

    def events(self, run_id: str, *, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        return []


def default_worker_id() -> str:
    """A stable consumer name: `host:process` (honcho's process name when run from the Procfile)."""
    return f"{socket.gethostname()}:{os.environ.get('HONCHO_PROCESS_NAME') or os.getpid()}"


def _transport(config: Config, given: StreamTransport | None) -> tuple[StreamTransport, bool]:
    """The node's transport and whether the node owns it: `given`, else Redis at AGENTSTAGE_REDIS_URL."""
    if given is not None:
        return given, False
    check_url(config.redis_url)
    return RedisTransport.from_url(config.redis_url), True


class CoordinatorNode:
    """The coordinator process: store, bridge, CoordinatorActor, its readers and its clock.

    Talks to Redis at `config.redis_url`, or to `transport` when given (a MemoryTransport in tests).
    """

    def __init__(self, config: Config, *, tick: float = 0.1, transport: StreamTransport | None = None) -> None:
        self.config = config
        self.layout = StreamLayout(config.stream_prefix)
        self.tick = tick
        self._given = transport
        self.transport: StreamTransport | None = None
        self._owns_transport = False
        self._stop = threading.Event()
        self._local = threading.local()
        self._readers: list[SQLiteReader] = []
        self._threads: list[Any] = []
        self._slots: list[Slot] = []
        self._clock: threading.Thread | None = None
        self.writer: SQLiteWriter | None = None
        self.reaper: Reaper | None = None
        self.io: IOLoop | None = None
        self.reconciler: Reconciler | None = None
        self.telemetry: Telemetry | None = None
        self._catalog_version = ""

    def reader(self) -> SQLiteReader:
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = SQLiteReader(self.config.state_path)
            self._readers.append(reader)
        return reader

    def start(self, stop: threading.Event | None = None) -> CoordinatorNode:
        """Open the store, wait for Redis (AGENTSTAGE_STARTUP_TIMEOUT), then start actors and readers.

        Returns early, not started, when `stop` is set while waiting. Raises StoreError/ConfigError
        after stopping whatever it had started.
        """
        raise_gc_threshold(self.config.gc_threshold)
        self.transport, self._owns_transport = _transport(self.config, self._given)
        try:
            self.writer = SQLiteWriter(self.config.state_path, busy_timeout_ms=self.config.busy_timeout_ms)
            if wait_for_redis(self.transport, self.config.redis_url, self.config.startup_timeout, stop):
                self._start_actors()
        except BaseException:
            self.stop(1.0)
            raise
        return self

    def _start_actors(self) -> None:
        transport, layout, writer = self.transport, self.layout, self.writer
        assert transport is not None
        self.telemetry = start_telemetry(self.config, self.reader)
        telemetry = self.telemetry.slot if self.telemetry is not None else None
        self.store = Slot("store", lambda slot: StoreActor.start(writer, telemetry, slot))
        self.bridge = Slot("bridge", lambda slot: BridgeActor.start(transport, slot))
        self.load = Load(self.config.max_queued, linger=self.config.read_linger_ms / 1000)
        self.reaper = Reaper(transport, layout, self.config.task_lease, self.config.max_entry_bytes)
        self.coordinator = Slot("coordinator", lambda slot: CoordinatorActor.start(
            self.config, layout, self.store, self.bridge, self.reader, self.load, self.reaper, slot))
        self._slots = [self.coordinator, self.bridge, self.store]
        self.reconciler = Reconciler(transport, layout, self.reader, self.coordinator.tell,
                                     interval=self.config.reconcile_interval, lease=self.config.task_lease,
                                     max_bytes=self.config.max_entry_bytes,
                                     retention=self.config.effect_retention or None)
        self._reconcile_at_start()
        self._publish_catalog()

        def deliver(entries: list, redelivered: bool) -> None:
            self.load.reserve(len(entries))
            self.coordinator.tell(Delivered(tuple(entries), redelivered))

        self._threads = [
            StreamReader(transport, layout, (layout.results, layout.control), COORDINATOR_GROUP, "coordinator",
                         deliver, self.load.results_room, name="coordinator-results",
                         max_bytes=self.config.max_entry_bytes, gate=self._after_outage, linger=self.load.linger),
            StreamReader(transport, layout, (layout.admit,), COORDINATOR_GROUP, "coordinator", deliver,
                         self.load.admit_room, name="coordinator-admit", max_bytes=self.config.max_entry_bytes,
                         gate=self._after_outage, linger=self.load.linger),
        ]
        for thread in self._threads:
            self.load.on_release(thread.wake)
            thread.start()
        self.reconciler.start()
        self._clock = threading.Thread(target=self._ticks, name="coordinator-clock", daemon=True)
        self._clock.start()
        # NOTE: the coordinator records into the SQLite file; with AGENTSTAGE_STATE=redis the API processes keep
        # schedules (and their tick leases) in Redis, so they alone fire them.
        if self.config.scheduler and self.config.state != "redis":
            self._start_scheduler()

    def _start_scheduler(self) -> None:
        """Fire stored schedules from here too: runs are queued like `runtime-enqueue`; a lease per tick lets
        one process (this one, another coordinator, an API) fire each tick."""
        from agentstage.actors.scheduler import SchedulerActor
        from agentstage.runtime.control import QueuedControl
        from agentstage.runtime.distributed.ops import RuntimeOps
        from agentstage.runtime.schedules import Firing

        assert self.transport is not None
        self.io = IOLoop(blocking_threads=2)
        self.io.start()
        port = _NodeStore(self)
        firing = Firing(port, QueuedControl(port, RuntimeOps(self.config, self.transport)))
        poll = self.config.scheduler_poll
        self._slots.insert(0, Slot("scheduler", lambda slot: SchedulerActor.start(firing, self.io, poll, slot)))

    def _reconcile_at_start(self) -> None:
        """Before reading any stream: bring Redis in line with the store (see `reconcile`)."""
        assert self.reconciler is not None
        try:
            self.reconciler.at_start()
        except (*UNAVAILABLE, Refused) as exc:
            logger.warning("cannot reconcile Redis with the store ({}); retried when Redis answers", exc)

    def _after_outage(self, stop: threading.Event) -> None:
        assert self.reconciler is not None
        self.reconciler.after_outage()

    def _ticks(self) -> None:
        catalog_every, ticks = max(1, round(_CATALOG_CHECK / self.tick)), 0
        while not self._stop.wait(self.tick):
            self.coordinator.tell(Tick())
            ticks += 1
            if ticks % catalog_every == 0:
                self._publish_catalog()

    def _publish_catalog(self) -> None:
        """Copy the stored tool catalog to Redis for the workers when it changed; a failure waits for the next try."""
        assert self.transport is not None
        try:
            self._catalog_version = publish_catalog(self.transport, self.layout, self.reader(), self._catalog_version)
        except (*UNAVAILABLE, StoreError) as exc:
            logger.debug("tool catalog not published yet: {}", exc)

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return bool(self._threads) and all(thread.ready.wait(timeout) for thread in self._threads)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self.reconciler is not None:
            self.reconciler.stop(timeout)
        for thread in self._threads:
            thread.signal_stop()
        for thread in self._threads:
            thread.stop(timeout)
        for slot in self._slots:
            slot.stop(timeout)
        if self.telemetry is not None:
            self.telemetry.stop(timeout)
            self.telemetry = None
        if self.io is not None:
            self.io.stop(timeout)
            self.io = None
        if self.transport is not None and self._owns_transport:
            self.transport.close()
        for reader in self._readers:
            reader.close()
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class _NodeStore:
    """The part of a System that schedule firing and queued run control use, over a coordinator node's store."""

    def __init__(self, node: CoordinatorNode) -> None:
        self.node = node
        self.config = node.config

    def reader(self) -> SQLiteReader:
        return self.node.reader()

    def write(self, records: Iterable[Any], *, timeout: float | None = None) -> None:
        """Persist `records` through the node's store actor; returns once durable (raises its StoreError)."""
        reply: pykka.Future[None] = pykka.ThreadingFuture()
        self.node.store.tell(Write(tuple(records), reply))
        reply.get(timeout=timeout if timeout is not None else self.config.run_timeout)


_CATALOG_CHECK = 1.0
"""Seconds between the coordinator's checks of the stored tool catalog for changes to publish."""


class UnknownTool(ConfigError):
    """An agent asks for a tool this worker does not have (yet: it may come with the published catalog)."""


def _retire(pool: AgentPool, timeout: float) -> None:
    pool.drain(time.monotonic() + timeout)
    pool.stop(timeout)


class WorkerNode:
    """A worker process: bridge, agent pools writing to a task-stream sink, WorkerActor, reader, monitor."""

    def __init__(self, config: Config, worker_id: str | None = None, concurrency: int | None = None,
                 setup: WorkerSetup | None = None, *, transport: StreamTransport | None = None) -> None:
        self.config = config
        self._given = transport
        self.transport: StreamTransport | None = None
        self._owns_transport = False
        self.layout = StreamLayout(config.stream_prefix)
        self.worker_id = worker_id or default_worker_id()
        self.concurrency = concurrency or config.worker_concurrency
        if self.concurrency < 1:
            raise ConfigError("AGENTSTAGE_WORKER_CONCURRENCY", self.concurrency, "must be at least 1")
        self.setup = setup or WorkerSetup()
        self.state = WorkerState(self.worker_id, self.concurrency)
        self.pools: dict[str, AgentPool] = {}
        self._providers: list[Provider] = []
        self.io = IOLoop(blocking_threads=config.blocking_threads)
        self.bridge: Slot | None = None
        self.journal: RedisJournal | None = None
        self.graphs: GraphRuns | None = None
        self.worker: Slot | None = None
        self.reader: StreamReader | None = None
        self.monitor: WorkerMonitor | None = None
        self._stopping = threading.Event()
        self._catalog_thread: threading.Thread | None = None

    def start(self, stop: threading.Event | None = None) -> WorkerNode:
        """Build the agent pools (unknown tools or providers raise ConfigError), wait for Redis
        (AGENTSTAGE_STARTUP_TIMEOUT), then start claiming.

        Returns early, not claiming, when `stop` is set while waiting. Raises after stopping
        whatever it had started.
        """
        raise_gc_threshold(self.config.gc_threshold)
        self.transport, self._owns_transport = _transport(self.config, self._given)
        try:
            self._build()
            if wait_for_redis(self.transport, self.config.redis_url, self.config.startup_timeout, stop):
                self._refresh_catalog()
                self._claim()
        except BaseException:
            self.stop(1.0)
            raise
        return self

    def _build(self) -> None:
        transport, layout, state = self.transport, self.layout, self.state
        assert transport is not None
        self.io.start()
        self.bridge = Slot("bridge", lambda slot: BridgeActor.start(transport, slot))
        self.sink = TaskStreamSink(state, layout, self.bridge,
                                   lambda run_id, attempt: self.worker.tell(Finished(run_id, attempt)))
        self.journal = RedisJournal(transport, layout, self.sink.effect, self.config.effect_retention)
        context = ToolContext.from_config(self.config, CoordinatorSessionItems(transport, layout))
        tools = self.setup.tools if self.setup.tools is not None else builtin_registry(context)
        self.tools = tools
        self.catalog = WorkerCatalog(self.config, tools, context)
        self.workflows = self.setup.workflows or default_registry()
        specs = {spec.name: spec for spec in self.setup.agents}
        specs.setdefault("default", AgentSpec.from_config(self.config))
        if self.setup.tools is None:
            secops.register_app(self.workflows, tools)
            specs.setdefault(secops.AGENT, secops.agent_spec(self.config))
        self.specs = specs
        self._deferred: list[AgentSpec] = []
        self._selections: dict[str, tuple[str, ...]] = {}
        for spec in specs.values():
            try:
                self._start_pool(spec, tools)
            except UnknownTool:
                self._deferred.append(spec)
        self.workflows.load_dir(workflow_dir(self.config))
        self.bound = BoundWorkflows(self.catalog.catalog, self.workflows, self.specs.get, self._replace_pool)
        self.history = TaskHistory()
        self.graphs = GraphRuns(self.config, self.sink, lambda: self.history, tools, self.journal, self.pools.get,
                                self.workflows, state.is_cancelled, self.io)
        self.worker = Slot("worker", lambda slot: WorkerActor.start(
            state, layout, transport, self.bridge, self.pools, self.config.task_lease * 20, self._wake,
            self.graphs, self.sink.ended, slot, self.history))

    def _claim(self) -> None:
        transport, layout, state = self.transport, self.layout, self.state
        assert transport is not None
        self.reader = StreamReader(transport, layout, (layout.tasks,), WORKERS_GROUP, self.worker_id, self._deliver,
                                   state.free, name=f"worker-{self.worker_id}",
                                   max_bytes=self.config.max_entry_bytes,
                                   gate=lambda stop: wait_until_reconciled(transport, layout, stop))
        self.monitor = WorkerMonitor(transport, layout, state, self.config.heartbeat_interval, list(self.pools),
                                     self.workflows.names())
        self.monitor.start()
        self.reader.start()
        self._catalog_thread = threading.Thread(target=self._follow_catalog, name=f"catalog-{self.worker_id}",
                                                daemon=True)
        self._catalog_thread.start()

    def _follow_catalog(self) -> None:
        """Apply catalog changes the coordinator publishes, checked at the heartbeat interval."""
        while not self._stopping.wait(self.config.heartbeat_interval):
            try:
                self._refresh_catalog()
            except UNAVAILABLE as exc:
                logger.debug("tool catalog not checked: {}", exc)
            except Exception as exc:  # NOTE: a bad catalog change is logged; the worker keeps its current tools
                logger.warning("tool catalog change not applied: {}", exc)

    def _refresh_catalog(self) -> None:
        """Apply a newer published tool catalog: start the agents that waited for its tools (at start an agent
        whose tool is still unknown is a ConfigError), restart the pools offering a changed tool, re-bind."""
        assert self.transport is not None
        snapshot = fetch_catalog(self.transport, self.layout)
        fresh = snapshot is not None and snapshot.version != self.catalog.version
        if not fresh and not self._deferred:
            return
        changed = self.catalog.apply(snapshot) if fresh and snapshot is not None else set()
        deferred, self._deferred = self._deferred, []
        for spec in deferred:
            self._start_pool(spec, self.tools)
        for name, spec in list(self.specs.items()):
            if name not in self.pools:
                continue
            names = tuple(self.catalog.catalog.selection_for(name, spec.tools))
            if names != self._selections.get(name) or changed & set(names):
                self._replace_pool(spec, name)
        self.bound.apply_all()

    def _replace_pool(self, spec: AgentSpec, base: str) -> None:
        """Start a pool for `spec` (provider of agent `base`) in place of the one of that name, which finishes
        the runs it holds in the background."""
        old = self.pools.get(spec.name)
        self._start_pool(spec, self.tools, provider_of=base)
        if old is not None:
            threading.Thread(target=_retire, args=(old, self.config.run_timeout), name=f"retire-{spec.name}",
                             daemon=True).start()

    def _wake(self) -> None:
        if self.reader is not None:
            self.reader.wake()

    def _start_pool(self, spec: AgentSpec, tools: ToolRegistry, provider_of: str | None = None) -> None:
        provider = self.setup.providers.get(provider_of or spec.name) or create_provider(self.config, spec.provider)
        self._providers.append(provider)
        unknown = [a for a in (*spec.delegates, *spec.handoffs) if a not in self.specs]
        if unknown:
            raise ConfigError("AgentSpec.delegates/handoffs", unknown[0], f"agent {spec.name!r} names an unknown agent")
        spec, agent_tools = with_delegation(spec, self._start_child)
        for tool in agent_tools:
            tools.register(tool)
        try:
            names = self.catalog.catalog.selection_for(spec.name, spec.tools)
            selected = tools.select(names)
        except NotFound as exc:
            raise UnknownTool("AGENTSTAGE_TOOLS", exc.key, f"agent {spec.name!r} asks for an unknown tool") from None
        spec = dataclasses.replace(spec, middleware=(*spec.middleware, SessionBinding(selected)))
        member = AgentActor.member(spec, provider, selected, self.sink, self.journal, self.io,
                                   cancelled=self.state.is_cancelled, tool_threads=self.config.tool_threads)
        # NOTE: the reader claims only as many tasks as the worker has free slots, so the limit is never hit.
        self.pools[spec.name] = AgentPool(f"agent:{spec.name}", spec.pool_size, member, limit=self.concurrency)
        self._selections[spec.name] = tuple(names)

    def _start_child(self, agent: str, prompt: str, parent_run_id: str,
                     done: Callable[[Any, BaseException | None], None]) -> str:
        """Start agent `agent` on this worker as a child run of `parent_run_id` (a delegation); its records go
        to the coordinator under the attempt of the task the parent runs in, as a graph's child runs do."""
        pool = self.pools.get(agent)
        if pool is None:
            raise NotFound("agent", agent)
        flight = next((f for f in self.state.in_flight()
                       if parent_run_id == f.task.run_id or parent_run_id.startswith(f"{f.task.run_id}.")), None)
        if flight is None:
            raise RunRefused(parent_run_id, "this worker no longer holds the task the run belongs to")
        request = RunAgent(f"{parent_run_id}.{agent}.{short_id()}", new_id(), prompt, agent,
                           metadata={"parent_run_id": parent_run_id, "task_run_id": flight.task.run_id,
                                     "parent_attempt": flight.task.attempt, "worker_id": self.worker_id})
        pool.dispatch(StartRun(request, notifying(done)))
        return request.run_id

    def _deliver(self, entries: list, redelivered: bool) -> None:
        self.state.reserve(len(entries))
        self.worker.tell(Claimed(tuple(entries), redelivered))

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self.reader is not None and self.reader.ready.wait(timeout)

    def drain(self, timeout: float) -> int:
        """Stop claiming, let in-flight tasks finish for up to `timeout` s, release the rest; returns released."""
        deadline = time.monotonic() + timeout
        self.state.draining = True
        if self.reader is not None:
            # NOTE: joined before anything is released: a read in progress could claim a released task's retry.
            self.reader.stop()
        while self.state.in_flight() and time.monotonic() < deadline:
            time.sleep(0.05)
        leftovers = self.state.in_flight()
        for flight in leftovers:
            self.state.abandon(flight.task.run_id, flight.task.attempt)
            released = TaskReleased(flight.task.task_id, flight.task.run_id, flight.task.attempt, self.worker_id,
                                    flight.entry_id, "worker shut down before the task finished")
            self.bridge.tell(Send((("xadd", self.layout.results, to_wire(released), None),)))
        if leftovers:
            logger.info("worker {} released {} unfinished tasks", self.worker_id, len(leftovers))
        return len(leftovers)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._catalog_thread is not None:
            self._catalog_thread.join(timeout)
        if not self.state.draining:
            self.drain(0)
        if self.reader is not None:
            self.reader.stop(timeout)
        if self.monitor is not None:
            self.monitor.stop("stopped")
        for pool in self.pools.values():
            pool.stop(timeout)
        for part in (self.graphs, self.worker, self.bridge):
            if part is not None:
                part.stop(timeout)
        for provider in self._providers:
            provider.close()
            try:
                self.io.run(provider.aclose(), timeout=2.0)
            except Exception as exc:  # NOTE: closing connections at shutdown must not stop the shutdown
                logger.debug("provider {} did not close cleanly: {!r}", provider.name, exc)
        self.io.stop(timeout)
        if self.transport is not None and self._owns_transport:
            self.transport.close()
