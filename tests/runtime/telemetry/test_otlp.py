"""The OTLP exporter: where it sends, what the collector receives, and that a collector that is down
never holds up a run or the shutdown for long."""

from __future__ import annotations

import socket

from agentstage.runtime import Config, System
from agentstage.runtime.telemetry.otlp import DEFAULT_ENDPOINT, OtlpTraces, traces_endpoint
from agentstage.runtime.telemetry.spans import SpanEvent, SpanRecord
from tests.otlp_receiver import OtlpReceiver


def test_the_endpoint_is_the_setting_then_the_standard_variables_then_the_local_default() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ""}
    assert traces_endpoint("http://mine/v1/traces", env) == "http://mine/v1/traces"
    assert traces_endpoint("", env) == "http://collector:4318/v1/traces"
    assert traces_endpoint("", {**env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t/x"}) == "http://t/x"
    assert traces_endpoint("", {}) == DEFAULT_ENDPOINT


def test_spans_arrive_with_ids_parent_kind_status_attributes_and_events() -> None:
    root = SpanRecord(0xABC, 0x1, None, "invoke_agent a", "internal", 1_000, 5_000, {"gen_ai.agent.name": "a"})
    chat = SpanRecord(0xABC, 0x2, 0x1, "chat m", "client", 2_000, 3_000,
                      {"gen_ai.response.finish_reasons": ["stop"], "gen_ai.usage.input_tokens": 7},
                      [SpanEvent("llm.retry", 2_500, {"agentstage.attempt": 1})], error="429")
    with OtlpReceiver() as receiver:
        traces = OtlpTraces(receiver.url, service_name="billing-agents")
        traces.submit([root, chat])
        assert traces.flush(10)
        assert traces.shutdown()
        got = {s.name: s for s in receiver.spans}
    assert (got["chat m"].trace, got["chat m"].span, got["chat m"].parent) == (f"{0xABC:032x}", f"{2:016x}",
                                                                               f"{1:016x}")
    assert (got["chat m"].kind, got["chat m"].status_code, got["chat m"].status_message) == (3, 2, "429")
    assert got["chat m"].attributes == {"gen_ai.response.finish_reasons": ["stop"], "gen_ai.usage.input_tokens": 7}
    assert got["chat m"].events == [("llm.retry", {"agentstage.attempt": 1})]
    assert (got["invoke_agent a"].parent, got["invoke_agent a"].service) == ("", "billing-agents")
    assert (got["chat m"].start_ns, got["chat m"].end_ns) == (2_000, 3_000)


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/v1/traces"


def test_a_collector_that_is_down_does_not_hold_up_runs(config: Config) -> None:
    with System(config.replace(otel="otlp", otel_endpoint=_closed_port_url())) as system:
        results = [system.run(f"calculate {n} + 1") for n in range(5)]
    assert [r.status for r in results] == ["completed"] * 5


def test_shutting_down_gives_up_on_a_collector_that_does_not_answer_instead_of_waiting_out_its_retries() -> None:
    traces = OtlpTraces(_closed_port_url())
    traces.submit([SpanRecord(0xABC, 0x1, None, "invoke_agent a", "internal", 1_000, 5_000, {})])
    assert traces.shutdown(0.2) is False
