"""A run's durable events as spans: the run, its model calls, tool calls and graph nodes, parented.

    spans = run_spans(row, events, TraceLink(trace_id, parent_span_id))

Spans are derived from the stored events after the run settles, so a trace shows exactly what the
store holds, also for runs on workers or runs a crashed process left behind. Ids are derived from
run ids and event numbers: a child run exported before its parent still points at the parent's tool
or node span, and exporting a run twice gives the same spans. Names and attributes follow the
OpenTelemetry GenAI semantic conventions (`invoke_agent`, `invoke_workflow`, `chat`, `execute_tool`);
prompts, answers and tool arguments are never put in a span.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentstage.runtime.clock import parse_ts
from agentstage.runtime.state.reader import RunRow
from agentstage.runtime.state.records import Event

__all__ = ["SpanEvent", "SpanRecord", "TraceLink", "child_link", "run_spans", "span_id", "trace_id"]

_STRUCTURAL = frozenset({"run.queued", "run.started", "run.completed", "run.failed", "run.cancelled",
                         "llm.request", "llm.response", "llm.error", "llm.delta", "tool.call", "tool.result",
                         "node.entered", "node.exited"})
_TERMINAL = frozenset({"run.completed", "run.failed", "run.cancelled"})


@dataclass(frozen=True, slots=True)
class SpanEvent:
    """Something that happened inside a span (a retry, a guardrail decision, a checkpoint)."""

    name: str
    time_ns: int
    attributes: dict[str, Any]


@dataclass(slots=True)
class SpanRecord:
    """One span, vendor-neutral: ids are integers (64-bit span, 128-bit trace); `kind` is internal or client."""

    trace_id: int
    span_id: int
    parent_id: int | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    events: list[SpanEvent] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TraceLink:
    """Where a run's spans hang: the trace of its root run and the span that started it (None for a root)."""

    trace_id: int
    parent_span_id: int | None = None


def trace_id(root_run_id: str) -> int:
    """The trace of a root run and all its descendants."""
    return _digest(root_run_id, 16)


def span_id(run_id: str, key: str) -> int:
    """The span `key` ("run", "llm/7", "tool/4", "node/3": kind and first event number) of a run."""
    return _digest(f"{run_id}/{key}", 8)


def child_link(child: RunRow, parent_events: Sequence[Event], trace: int) -> TraceLink:
    """The span of the parent run that started `child`: the graph node of its step, the delegation tool
    call that asked for it, else the parent run itself."""
    parent = child.parent_run_id or ""
    step = child.metadata.get("graph_step")
    if step is not None:
        entered = [e for e in parent_events if e.type == "node.entered" and (e.data or {}).get("step") == step]
        if entered:
            return TraceLink(trace, span_id(parent, f"node/{entered[-1].seq}"))
    agent = child.agent or ""
    for event in reversed(parent_events):
        if (event.type == "tool.call" and event.tool in (f"ask_{agent}", f"transfer_to_{agent}")
                and (event.data or {}).get("arguments", {}).get("task") == child.input):
            return TraceLink(trace, span_id(parent, f"tool/{event.seq}"))
    return TraceLink(trace, span_id(parent, "run"))


def run_spans(run: RunRow, events: Iterable[Event], link: TraceLink) -> list[SpanRecord]:
    """The spans of one settled run: its root span first, then model, tool and node spans in start order."""
    ordered = sorted(events, key=lambda e: e.seq)
    if not ordered:
        return []
    builder = _Builder(run, link, ordered)
    for event in ordered:
        builder.add(event)
    return builder.finish()


class _Builder:
    """Pairs opening and closing events into spans; everything else becomes an event of the innermost open span."""

    def __init__(self, run: RunRow, link: TraceLink, events: list[Event]) -> None:
        self.run = run
        self.trace = link.trace_id
        start = next((e for e in events if e.type == "run.started"), events[0])
        self.end_ns = _ns(events[-1].ts)
        self.root = SpanRecord(self.trace, span_id(run.run_id, "run"), link.parent_span_id, _root_name(run),
                               "internal", _ns(start.ts), self.end_ns, _root_attributes(run))
        self.spans: list[SpanRecord] = [self.root]
        self.open_llm: SpanRecord | None = None
        self.open_tools: dict[str, SpanRecord] = {}
        self.open_nodes: dict[Any, SpanRecord] = {}

    def add(self, event: Event) -> None:
        data = event.data or {}
        kind = event.type
        if kind == "llm.request":
            self.open_llm = self._open(event, f"llm/{event.seq}", self._chat_name(), "client",
                                       _chat_attributes(self.run, event), self._node_parent())
        elif kind in ("llm.response", "llm.error") and self.open_llm is not None:
            self._close_llm(event, data)
        elif kind == "tool.call":
            call = str(data.get("tool_call_id") or event.seq)
            self.open_tools[call] = self._open(event, f"tool/{event.seq}", f"execute_tool {event.tool}", "internal",
                                               {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": event.tool or "",
                                                "gen_ai.tool.call.id": call, "gen_ai.tool.type": "function"},
                                               self._node_parent())
        elif kind == "tool.result" and str(data.get("tool_call_id") or "") in self.open_tools:
            span = self.open_tools.pop(str(data["tool_call_id"]))
            self._close(span, event)
            if data.get("replayed"):
                span.attributes["agentstage.tool.replayed"] = True
            if event.error or data.get("status") == "failed":
                span.error = event.error or "tool failed"
        elif kind == "node.entered":
            self.open_nodes[data.get("step")] = self._open(
                event, f"node/{event.seq}", f"node {event.node}", "internal",
                {"agentstage.graph.node": event.node or "", "agentstage.graph.step": _scalar(data.get("step")),
                 "agentstage.graph.node_kind": str(data.get("kind") or "")}, self.root.span_id)
        elif kind == "node.exited" and data.get("step") in self.open_nodes:
            self._close(self.open_nodes.pop(data.get("step")), event)
        elif kind in _TERMINAL:
            self._settle(event)
        elif kind not in _STRUCTURAL:
            self._innermost().events.append(SpanEvent(kind, _ns(event.ts), _event_attributes(event)))

    def finish(self) -> list[SpanRecord]:
        """Close what the run left open at its end (failed when the run did not complete)."""
        unfinished = ([self.open_llm] if self.open_llm else []) + list(self.open_tools.values()) + list(self.open_nodes.values())
        for span in unfinished:
            span.end_ns = max(span.start_ns, self.end_ns)
            if self.run.status != "completed":
                span.error = f"unfinished when the run was {self.run.status}"
        return self.spans

    def _open(self, event: Event, key: str, name: str, kind: str, attributes: dict[str, Any],
              parent: int) -> SpanRecord:
        start = _ns(event.ts)
        span = SpanRecord(self.trace, span_id(self.run.run_id, key), parent, name, kind, start, start, attributes)
        self.spans.append(span)
        return span

    def _close(self, span: SpanRecord, event: Event) -> None:
        end = _ns(event.ts)
        if event.duration_ms is not None:
            span.start_ns = min(span.start_ns, end - int(event.duration_ms * 1_000_000))
        span.end_ns = max(end, span.start_ns)

    def _close_llm(self, event: Event, data: dict[str, Any]) -> None:
        span, self.open_llm = self.open_llm, None
        assert span is not None
        self._close(span, event)
        if data.get("model"):
            span.attributes["gen_ai.response.model"] = str(data["model"])
            if not span.attributes.get("gen_ai.request.model"):
                span.attributes["gen_ai.request.model"] = str(data["model"])
                span.name = f"chat {data['model']}"
        if data.get("finish_reason"):
            span.attributes["gen_ai.response.finish_reasons"] = [str(data["finish_reason"])]
        usage = data.get("usage") or {}
        for key in ("input_tokens", "output_tokens"):
            if usage.get(key) is not None:
                span.attributes[f"gen_ai.usage.{key}"] = int(usage[key])
        if event.type == "llm.error":
            span.error = event.error or "model call failed"
            span.attributes["error.type"] = str(data.get("error_type") or "_OTHER")

    def _settle(self, event: Event) -> None:
        self.root.end_ns = max(_ns(event.ts), self.root.start_ns)
        self.end_ns = self.root.end_ns
        if event.type != "run.completed":
            self.root.error = event.error or (event.data or {}).get("reason") or event.type.removeprefix("run.")
            self.root.attributes["error.type"] = "cancelled" if event.type == "run.cancelled" else "_OTHER"

    def _chat_name(self) -> str:
        return f"chat {self.run.model}" if self.run.model else "chat"

    def _node_parent(self) -> int:
        """Model and tool calls of a graph run's tool nodes hang under the node that made them."""
        if self.open_nodes:
            return list(self.open_nodes.values())[-1].span_id
        return self.root.span_id

    def _innermost(self) -> SpanRecord:
        if self.open_llm is not None:
            return self.open_llm
        if self.open_tools:
            return list(self.open_tools.values())[-1]
        if self.open_nodes:
            return list(self.open_nodes.values())[-1]
        return self.root


def _root_name(run: RunRow) -> str:
    if run.kind == "graph":
        return f"invoke_workflow {run.workflow}"
    return f"invoke_agent {run.agent or 'default'}"


def _root_attributes(run: RunRow) -> dict[str, Any]:
    attributes: dict[str, Any] = {"agentstage.run.id": run.run_id, "agentstage.run.status": run.status,
                                  "agentstage.run.attempt": run.attempt, "gen_ai.conversation.id": run.session_id,
                                  "gen_ai.usage.input_tokens": run.input_tokens,
                                  "gen_ai.usage.output_tokens": run.output_tokens}
    if run.kind == "graph":
        attributes.update({"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": run.workflow or ""})
    else:
        attributes.update({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": run.agent or "default"})
        if run.provider:
            attributes["gen_ai.provider.name"] = run.provider
        if run.model:
            attributes["gen_ai.request.model"] = run.model
    if run.worker_id:
        attributes["agentstage.worker.id"] = run.worker_id
    if run.parent_run_id:
        attributes["agentstage.run.parent_id"] = run.parent_run_id
    return attributes


def _chat_attributes(run: RunRow, event: Event) -> dict[str, Any]:
    attributes: dict[str, Any] = {"gen_ai.operation.name": "chat",
                                  "agentstage.llm.iteration": _scalar((event.data or {}).get("iteration"))}
    provider = event.provider or run.provider
    if provider:
        attributes["gen_ai.provider.name"] = provider
    if run.model:
        attributes["gen_ai.request.model"] = run.model
    return attributes


def _event_attributes(event: Event) -> dict[str, Any]:
    attributes = {f"agentstage.{key}": _scalar(value) for key, value in (event.data or {}).items()
                  if isinstance(value, (str, int, float, bool)) and key not in ("content", "input", "output")}
    if event.error:
        attributes["error.message"] = event.error
    for name in ("node", "tool", "provider"):
        value = getattr(event, name)
        if value:
            attributes[f"agentstage.{name}"] = value
    return attributes


def _scalar(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) else "" if value is None else str(value)


def _ns(ts: str) -> int:
    moment = parse_ts(ts)
    return (calendar.timegm(moment.utctimetuple()) * 1_000_000 + moment.microsecond) * 1000


def _digest(text: str, size: int) -> int:
    value = int.from_bytes(hashlib.sha256(text.encode()).digest()[:size], "big")
    return value or 1
