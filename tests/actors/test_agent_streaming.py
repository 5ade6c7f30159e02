"""Streaming in the agent loop: live `llm.delta` events, durable final response, restarted turns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentstage.runtime import Config, System
from agentstage.runtime.cli import main
from agentstage.runtime.llm.openai import OpenAIProvider
from tests.runtime.llm.wire_server import Reply, WireServer


def chunk(text: str, finish: str | None = None) -> tuple[None, dict]:
    return None, {"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


@pytest.fixture
def wire() -> Iterator[WireServer]:
    with WireServer() as server:
        yield server
        assert not server.violations, server.violations


@pytest.fixture(params=["native-async", "sync-on-executor"])
def provider(wire: WireServer, request: pytest.FixtureRequest) -> Iterator[OpenAIProvider]:
    """The adapter over its own async client (on the I/O loop), or over an injected sync client (executor path)."""
    client = httpx.Client(timeout=10) if request.param == "sync-on-executor" else None
    made = OpenAIProvider("sk-test", "m", f"{wire.base}/v1", client)
    yield made
    made.close()
    if client is not None:
        client.close()


def drain(subscription, until: str = "run.completed") -> list:
    seen = []
    while True:
        event = subscription.get(timeout=30)
        assert event is not None, f"no {until} within 30 s; saw {[e.type for e in seen]}"
        seen.append(event)
        if event.type in (until, "run.failed"):
            return seen


def test_text_deltas_are_live_events_and_the_final_answer_is_durable(
        config: Config, wire: WireServer, provider: OpenAIProvider) -> None:
    wire.add(Reply(sse=[chunk("Zero "), chunk("trust "), chunk("means verify.", "stop"), (None, "[DONE]")]))
    with System(config.replace(stream=True), providers={"default": provider}) as system:
        handle = system.run_async("explain zero trust", run_id="r-stream")
        with system.subscribe("r-stream") as subscription:
            seen = drain(subscription)
        result = handle.result(30)
        stored = system.events(result.run_id)
    deltas = [e for e in seen if e.type == "llm.delta"]
    assert "".join(e.data["text"] for e in deltas) == "Zero trust means verify." == result.output
    assert {(e.seq, e.data["attempt"]) for e in deltas} == {(0, 1)}
    request_seq = next(e.seq for e in stored if e.type == "llm.request")
    assert {e.data["after_seq"] for e in deltas} == {request_seq}
    assert "llm.delta" not in {e.type for e in stored}
    response = next(e for e in stored if e.type == "llm.response")
    assert response.data["content"] == "Zero trust means verify." and response.data["metadata"]["streamed"]


def test_a_stream_cut_after_text_restarts_the_turn(config: Config, wire: WireServer, provider: OpenAIProvider) -> None:
    wire.add(Reply(sse=[chunk("Half an ")], cut=True),
             Reply(sse=[chunk("A whole "), chunk("answer.", "stop"), (None, "[DONE]")]))
    quick = config.replace(stream=True, retry_initial_backoff=0.01)
    with System(quick, providers={"default": provider}) as system:
        handle = system.run_async("go", run_id="r-cut")
        with system.subscribe("r-cut") as subscription:
            seen = drain(subscription)
        result = handle.result(30)
        stored = system.events(result.run_id)
    assert result.output == "A whole answer." and len(wire.requests) == 2
    by_attempt = {}
    for event in seen:
        if event.type == "llm.delta":
            by_attempt.setdefault(event.data["attempt"], []).append(event.data["text"])
    assert by_attempt == {1: ["Half an "], 2: ["A whole ", "answer."]}
    assert [e.type for e in stored].count("llm.retry") == 1


def test_cli_run_prints_tokens_as_they_arrive(tmp_path: Path, wire: WireServer, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    wire.add(Reply(sse=[chunk("Hello "), chunk("there.", "stop"), (None, "[DONE]")]))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{wire.base}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("AGENTSTAGE_STREAM", "true")
    assert main(["run", "--home", str(tmp_path / "home"), "--provider", "openai", "--progress", "--", "hi"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "Hello there."
    assert "  [...] Hello there.\n" in err and "sk-test" not in err


def test_the_scripted_provider_streams_its_answer_word_by_word(config: Config) -> None:
    with System(config.replace(stream=True, provider="scripted")) as system:
        handle = system.run_async("hello", run_id="r-scripted")
        with system.subscribe("r-scripted") as subscription:
            seen = drain(subscription)
        result = handle.result(30)
    deltas = [e.data["text"] for e in seen if e.type == "llm.delta"]
    assert len(deltas) > 1 and "".join(deltas) == result.output
