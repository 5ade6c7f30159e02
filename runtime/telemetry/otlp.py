"""Export spans over OTLP/HTTP with the official OpenTelemetry SDK (the `otel` extra).

The SDK's BatchSpanProcessor holds finished spans in a bounded queue and exports them in batches on
its own thread, with the exporter's retries (OTEL_EXPORTER_OTLP_TIMEOUT bounds each export); when the
collector is away, spans past the queue bound are dropped (the SDK logs it), and runs never wait for it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from loguru import logger

from agentstage.runtime.errors import ConfigError
from agentstage.runtime.telemetry.spans import SpanRecord

__all__ = ["DEFAULT_ENDPOINT", "OtlpTraces", "traces_endpoint"]

DEFAULT_ENDPOINT = "http://localhost:4318/v1/traces"


def traces_endpoint(configured: str, env: Mapping[str, str]) -> str:
    """The traces URL: the setting, else the standard OTEL_EXPORTER_OTLP_* variables, else the local default."""
    if configured:
        return configured
    if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return env["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"
    return DEFAULT_ENDPOINT


class OtlpTraces:
    """Spans to an OTLP/HTTP traces endpoint; raises ConfigError when the `otel` extra is not installed."""

    def __init__(self, endpoint: str, *, service_name: str = "agentstage", schedule_delay_ms: float = 1000) -> None:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
            from opentelemetry.sdk.util.instrumentation import InstrumentationScope
        except ImportError:
            raise ConfigError("AGENTSTAGE_OTEL", "otlp",
                              "needs the otel extra: pip install 'agentstage[otel]'") from None
        self.endpoint = endpoint
        self._resource = Resource.create({"service.name": service_name})
        self._scope = InstrumentationScope("agentstage")
        self._processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint),
                                             schedule_delay_millis=schedule_delay_ms)

    def submit(self, spans: Iterable[SpanRecord]) -> None:
        """Queue finished spans for export; never blocks on the network."""
        for span in spans:
            self._processor.on_end(self._readable(span))

    def flush(self, timeout: float = 10.0) -> bool:
        """Export what is queued now; False when it did not finish in `timeout` seconds."""
        return self._processor.force_flush(int(timeout * 1000))

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Export what is queued and stop the export thread, waiting at most `timeout` seconds: a collector
        that does not answer must not hold up a process that is stopping. False when it did not finish."""
        closing = threading.Thread(target=self._processor.shutdown, name="otlp-shutdown", daemon=True)
        closing.start()
        closing.join(timeout)
        if closing.is_alive():
            logger.warning("traces not all exported: the collector at {} did not answer within {}s",
                           self.endpoint, timeout)
            return False
        return True

    def _readable(self, span: SpanRecord) -> Any:
        from opentelemetry.sdk.trace import Event, ReadableSpan
        from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

        flags = TraceFlags(TraceFlags.SAMPLED)
        parent = SpanContext(span.trace_id, span.parent_id, is_remote=False, trace_flags=flags) \
            if span.parent_id is not None else None
        status = Status(StatusCode.ERROR, span.error) if span.error else Status(StatusCode.OK)
        return ReadableSpan(
            span.name, SpanContext(span.trace_id, span.span_id, is_remote=False, trace_flags=flags), parent,
            self._resource, span.attributes,
            [Event(e.name, e.attributes, e.time_ns) for e in span.events],
            kind=SpanKind.CLIENT if span.kind == "client" else SpanKind.INTERNAL, status=status,
            start_time=span.start_ns, end_time=span.end_ns, instrumentation_scope=self._scope)
