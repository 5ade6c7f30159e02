"""Traces of runs: spans built from durable events (`spans`), exported over OTLP (`otlp`, the `otel` extra)."""

from agentstage.runtime.telemetry.spans import SpanEvent, SpanRecord, TraceLink, child_link, run_spans

__all__ = ["SpanEvent", "SpanRecord", "TraceLink", "child_link", "run_spans"]
