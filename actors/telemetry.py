"""TelemetryActor: turns each settled run's durable events into spans and hands them to the exporter.

It receives the store's `Publish` messages (from the observer in a System, straight from the store
on a coordinator), reads the settled run and the parents it hangs under, and submits the spans; the
exporter sends them on its own thread, so neither the store nor a run ever waits for a collector.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from loguru import logger

from agentstage.actors.observer import Subscription
from agentstage.actors.store import Publish
from agentstage.actors.supervision import Slot, SupervisedActor
from agentstage.runtime.config import Config
from agentstage.runtime.errors import ConfigError, NotFound, StoreError
from agentstage.runtime.state.base import StoreReader
from agentstage.runtime.state.records import Event
from agentstage.runtime.telemetry.spans import SpanRecord, TraceLink, child_link, run_spans, trace_id

__all__ = ["EXPORTERS", "SpanSink", "Telemetry", "TelemetryActor", "TelemetrySubscription", "settled_runs", "start_telemetry"]

EXPORTERS = ("otlp",)

_SETTLED = frozenset({"run.completed", "run.failed", "run.cancelled"})
_MAX_DEPTH = 32
_PAGE = 1000
_SPAWNING = frozenset({"node.entered", "tool.call"})
_PARENTS_KEPT = 256


class SpanSink(Protocol):
    def submit(self, spans: Iterable[SpanRecord]) -> None: ...


def settled_runs(events: Sequence[Event]) -> list[str]:
    """The runs a batch of events settles, in order."""
    return list(dict.fromkeys(e.run_id for e in events if e.type in _SETTLED))


class TelemetryActor(SupervisedActor):
    """Exports the spans of every run that settles; a store that cannot be read skips the run with a warning."""

    def __init__(self, sink: SpanSink, reader: Callable[[], StoreReader], slot: Slot | None = None) -> None:
        super().__init__(slot)
        self.sink = sink
        self.reader = reader
        self._spawns: OrderedDict[str, tuple[int, list[Event]]] = OrderedDict()

    def receive(self, message: Any) -> None:
        if not isinstance(message, Publish):
            raise TypeError(f"TelemetryActor cannot handle {type(message).__name__}")
        for run_id in settled_runs(message.events):
            try:
                self.sink.submit(self.spans(run_id))
            except (NotFound, StoreError) as exc:
                logger.warning("no trace for run {}: {}", run_id, exc)

    def spans(self, run_id: str) -> list[SpanRecord]:
        """The spans of a stored run, linked into its root run's trace."""
        reader = self.reader()
        run = reader.get_run(run_id)
        return run_spans(run, _events(reader, run_id), self._link(reader, run))

    def _link(self, reader: StoreReader, run: Any) -> TraceLink:
        root, chain = run, 0
        while root.parent_run_id and chain < _MAX_DEPTH:
            try:
                root = reader.get_run(root.parent_run_id)
            except NotFound:
                break
            chain += 1
        if not run.parent_run_id:
            return TraceLink(trace_id(run.run_id))
        return child_link(run, self._spawning(reader, run.parent_run_id), trace_id(root.run_id))

    def _spawning(self, reader: StoreReader, parent: str) -> list[Event]:
        """The parent's events that start child runs (node entries, tool calls), read on from where the last
        child of the same parent left off: the children of a wide map do not each read the whole parent."""
        seen, kept = self._spawns.pop(parent, (0, []))
        while page := reader.events(parent, after_seq=seen, limit=_PAGE):
            kept = kept + [e for e in page if e.type in _SPAWNING]
            seen = page[-1].seq
            if len(page) < _PAGE:
                break
        self._spawns[parent] = (seen, kept)
        while len(self._spawns) > _PARENTS_KEPT:
            self._spawns.popitem(last=False)
        return kept


def _events(reader: StoreReader, run_id: str) -> list[Event]:
    events: list[Event] = []
    while True:
        page = reader.events(run_id, after_seq=events[-1].seq if events else 0, limit=_PAGE)
        events += page
        if len(page) < _PAGE:
            return events


@dataclass(frozen=True, slots=True)
class Telemetry:
    """The trace export of one process: the actor's slot and the exporter it feeds."""

    slot: Slot
    traces: Any

    def tell(self, message: Publish) -> None:
        self.slot.tell(message)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the store (its last events included), then export what is queued."""
        self.slot.stop(timeout)
        self.traces.shutdown(min(timeout, 2.0))


class TelemetrySubscription(Subscription):
    """The observer's feed of settling events to the telemetry actor; never blocks the observer."""

    def __init__(self, telemetry: Telemetry) -> None:
        super().__init__(types=_SETTLED)
        self.telemetry = telemetry

    def offer(self, events: Sequence[Event]) -> None:
        self.telemetry.tell(Publish(tuple(events)))


def start_telemetry(config: Config, reader: Callable[[], StoreReader]) -> Telemetry | None:
    """The trace export `config.otel` asks for (None when off); raises ConfigError for an unknown exporter
    or a missing `otel` extra."""
    if not config.otel:
        return None
    if config.otel not in EXPORTERS:
        raise ConfigError("AGENTSTAGE_OTEL", config.otel, f"the trace exporter is one of {', '.join(EXPORTERS)}, "
                                                          "or empty for none")
    from agentstage.runtime.telemetry.otlp import OtlpTraces, traces_endpoint

    traces = OtlpTraces(traces_endpoint(config.otel_endpoint, config.env),
                        service_name=config.env.get("OTEL_SERVICE_NAME") or "agentstage")
    return Telemetry(Slot("telemetry", lambda slot: TelemetryActor.start(traces, reader, slot)), traces)
