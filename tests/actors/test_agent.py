"""The agent loop through a real System: tools, middleware, retries, limits, journal, crashes."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from agentstage.runtime import AgentSpec, Config, Middleware, RetryPolicy, System, ToolOutcome
from agentstage.runtime.errors import FatalError, RateLimited, RunAborted, TransientError
from agentstage.runtime.llm.types import LLMRequest, LLMResponse, Provider, ToolCall, Usage
from agentstage.runtime.tools import Tool, ToolRegistry, builtin_tools

FAST_RETRY = RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.01)


class QueueProvider(Provider):
    """Answers with the queued responses (or raises the queued errors) in order; records requests."""

    name = "queue"

    def __init__(self, *steps: LLMResponse | Exception) -> None:
        self.steps = list(steps)
        self.requests: list[LLMRequest] = []

    def generate(self, request: LLMRequest) -> LLMResponse:
        self.requests.append(request)
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step


def call(name: str, call_id: str = "c1", **arguments: object) -> LLMResponse:
    return LLMResponse(tool_calls=(ToolCall(call_id, name, dict(arguments)),), usage=Usage(5, 1))


def answer(text: str) -> LLMResponse:
    return LLMResponse(content=text, usage=Usage(7, 2))


def start(config: Config, provider: Provider, **spec: object) -> System:
    options = {"retry": FAST_RETRY, "pool_size": 1, **spec}
    agent = AgentSpec.from_config(config, **options)
    return System(config, agents=[agent], providers={"default": provider}).start()


def types_of(result) -> list[str]:
    return [event.type for event in result.events]


def test_loop_calls_the_tool_feeds_the_result_back_and_answers(config: Config) -> None:
    provider = QueueProvider(call("calculator", expression="6*7"), answer("42"))
    with start(config, provider) as system:
        result = system.run("what is 6*7?")
        stored = system.events(result.run_id)
    assert (result.status, result.output, result.usage) == ("completed", "42", Usage(12, 3))
    assert types_of(result) == ["run.started", "llm.request", "llm.response", "tool.call", "tool.result",
                                "llm.request", "llm.response", "run.completed"]
    tool_message = provider.requests[1].messages[-1]
    assert tool_message.role == "tool" and '"result": 42' in tool_message.content
    assert [e.seq for e in stored] == list(range(1, 9))


def test_scripted_provider_runs_the_whole_loop_offline(system: System) -> None:
    result = system.run("calculate (2+3)*4")
    assert result.output == "(2+3)*4 = 20"
    response = next(e for e in result.events if e.type == "llm.response")
    assert response.data["metadata"]["scripted"] is True


def test_unknown_tool_and_bad_arguments_go_back_to_the_model(config: Config) -> None:
    provider = QueueProvider(call("nope"), call("calculator", "c2", expression=3), answer("sorry"))
    with start(config, provider) as system:
        result = system.run("break things")
    assert result.status == "completed"
    errors = [e.error for e in result.events if e.type == "tool.result"]
    assert errors[0] == "tool 'nope' not found"
    assert "expression: 3 is not of type 'string'" in errors[1]
    assert all(e.data["status"] == "failed" for e in result.events if e.type == "tool.result")


def test_max_iterations_fails_the_run_clearly(config: Config) -> None:
    provider = QueueProvider(*[call("calculator", f"c{i}", expression="1+1") for i in range(3)])
    with start(config, provider, max_iterations=3) as system:
        result = system.run("loop forever")
        row = system.get_run(result.run_id)
    assert result.status == "failed" and "max iterations reached (3)" in result.error
    assert (row.status, row.error) == ("failed", result.error)


def test_transient_errors_are_retried_with_backoff(config: Config) -> None:
    provider = QueueProvider(TransientError("queue", "503"), RateLimited("queue", "429", retry_after=0.01), answer("ok"))
    with start(config, provider) as system:
        result = system.run("hello")
    assert result.output == "ok"
    retries = [e for e in result.events if e.type == "llm.retry"]
    assert [r.data["attempt"] for r in retries] == [1, 2]
    assert retries[1].data["delay_s"] == 0.01


def test_fatal_errors_are_not_retried(config: Config) -> None:
    provider = QueueProvider(FatalError("queue", "invalid api key", status=401), answer("never"))
    with start(config, provider) as system:
        result = system.run("hello")
    assert result.status == "failed" and "invalid api key" in result.error
    assert len(provider.requests) == 1


def test_retry_gives_up_after_max_attempts(config: Config) -> None:
    provider = QueueProvider(*[TransientError("queue", "down")] * 3)
    with start(config, provider) as system:
        result = system.run("hello")
    assert result.status == "failed" and len(provider.requests) == 3


class Recorder(Middleware):
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def before_generate(self, ctx, request):
        self.log.append(f"{self.name}.before_generate")

    def after_generate(self, ctx, request, response):
        self.log.append(f"{self.name}.after_generate")

    def before_tool(self, ctx, call):
        self.log.append(f"{self.name}.before_tool")

    def after_tool(self, ctx, call, outcome):
        self.log.append(f"{self.name}.after_tool")


def test_middleware_before_hooks_run_in_order_and_after_hooks_in_reverse(config: Config) -> None:
    log: list[str] = []
    provider = QueueProvider(call("calculator", expression="1"), answer("done"))
    with start(config, provider, middleware=[Recorder("a", log), Recorder("b", log)]) as system:
        system.run("go")
    assert log[:6] == ["a.before_generate", "b.before_generate", "b.after_generate", "a.after_generate",
                       "a.before_tool", "b.before_tool"]
    assert log[6:8] == ["b.after_tool", "a.after_tool"]


class Cache(Middleware):
    """Answers from a cache: short-circuits the provider and the tool."""

    def before_generate(self, ctx, request):
        if request.messages[-1].role == "user":
            return call("calculator", expression="2+2")
        return LLMResponse(content="cached answer")

    def before_tool(self, ctx, call):
        return ToolOutcome({"result": 4})


class Redact(Middleware):
    def before_generate(self, ctx, request):
        return dataclasses.replace(request, system="be brief")

    def after_generate(self, ctx, request, response):
        return dataclasses.replace(response, content=response.content.replace("secret", "[redacted]"))


def test_middleware_can_short_circuit_provider_and_tools(config: Config) -> None:
    provider = QueueProvider()
    with start(config, provider, middleware=[Cache()]) as system:
        result = system.run("anything")
    assert result.output == "cached answer" and provider.requests == []
    assert next(e for e in result.events if e.type == "tool.result").data["result"] == {"result": 4}


def test_middleware_can_change_request_and_response(config: Config) -> None:
    provider = QueueProvider(answer("the secret is out"))
    with start(config, provider, middleware=[Redact()]) as system:
        result = system.run("tell me")
    assert provider.requests[0].system == "be brief"
    assert result.output == "the [redacted] is out"


class Boom(Middleware):
    def before_generate(self, ctx, request):
        raise ValueError("middleware bug")


class Guard(Middleware):
    def __init__(self) -> None:
        self.errors: list[str] = []

    def before_generate(self, ctx, request):
        raise RunAborted("blocked by policy")

    def on_error(self, ctx, stage, error):
        self.errors.append(stage)


def test_a_crashing_middleware_is_reported_not_fatal(config: Config) -> None:
    with start(config, QueueProvider(answer("fine")), middleware=[Boom()]) as system:
        result = system.run("hi")
    assert result.status == "completed"
    assert any(e.type == "middleware.error" and "middleware bug" in e.error for e in result.events)


def test_abort_run_from_middleware_fails_the_run_and_calls_on_error(config: Config) -> None:
    guard = Guard()
    with start(config, QueueProvider(), middleware=[guard]) as system:
        result = system.run("hi")
    assert result.status == "failed" and "blocked by policy" in result.error
    assert guard.errors == ["middleware"]


def test_parallel_tool_calls_keep_call_order(config: Config) -> None:
    release = threading.Barrier(3, timeout=10)

    def slow(n: int) -> dict:
        release.wait()
        time.sleep(0.01 * (3 - n))
        return {"n": n}

    tools = ToolRegistry([Tool("slow", "waits", {"type": "object", "properties": {"n": {"type": "integer"}}}, slow)])
    calls = tuple(ToolCall(f"c{n}", "slow", {"n": n}) for n in range(3))
    provider = QueueProvider(LLMResponse(tool_calls=calls), answer("done"))
    agent = AgentSpec.from_config(config, tools=("slow",), parallel_tools=True, max_parallel_tools=3, pool_size=1)
    with System(config, agents=[agent], tools=tools, providers={"default": provider}) as system:
        result = system.run("fan out")
    assert result.status == "completed", result.error
    results = [e.data["result"] for e in result.events if e.type == "tool.result"]
    assert results == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_side_effecting_call_is_not_repeated_when_a_run_is_retried(config: Config) -> None:
    sent: list[str] = []
    tools = ToolRegistry([*builtin_tools(), Tool(
        "send_email", "sends", {"type": "object", "properties": {"to": {"type": "string"}}},
        lambda to: sent.append(to) or {"sent": to}, side_effects=True)])
    provider = QueueProvider(call("send_email", to="ops@example.com"), answer("sent"),
                             call("send_email", to="ops@example.com"), answer("sent again"))
    agent = AgentSpec.from_config(config, tools=("send_email",), pool_size=1)
    with System(config, agents=[agent], tools=tools, providers={"default": provider}) as system:
        first = system.run("notify", run_id="run-x")
        retried = system.run_async("notify", run_id="run-x")
        second = retried.result(10)
    assert sent == ["ops@example.com"]
    replay = next(e for e in second.events if e.type == "tool.result")
    assert first.status == "completed" and replay.data["replayed"] is True


class Exploding(Provider):
    """A provider with a bug: raises an unexpected exception once, then answers."""

    name = "exploding"

    def __init__(self) -> None:
        self.calls = 0

    def generate(self, request: LLMRequest) -> LLMResponse:
        self.calls += 1
        if self.calls == 1:
            raise KeyError("bug in provider")
        return answer("recovered")


def test_a_crashing_actor_fails_its_run_and_is_restarted(config: Config) -> None:
    with start(config, Exploding()) as system:
        pool = system._pools["default"]
        before = pool.slots[0].ref
        failed = system.run("first")
        after = system.run("second")
        row = system.get_run(failed.run_id)
        restarted = pool.slots[0].ref
    assert failed.status == "failed" and "agent crashed" in failed.error and "bug in provider" in failed.error
    assert row.status == "failed"
    assert after.output == "recovered"
    assert restarted is not before and pool.slots[0].restarts == 1


class InlineQueueProvider(QueueProvider):
    """QueueProvider answering on the agent's own thread, as the scripted provider does."""

    inline = True


def test_inline_tools_run_on_the_agent_thread_and_other_tools_on_tool_threads(config: Config) -> None:
    threads: dict[str, str] = {}

    def record(name: str):
        return lambda: threads.setdefault(name, threading.current_thread().name) and {"ok": True}

    registry = ToolRegistry([
        Tool("pure", "inline", {"type": "object"}, record("pure"), inline=True),
        Tool("plain", "on a tool thread", {"type": "object"}, record("plain")),
    ])
    provider = InlineQueueProvider(call("pure"), call("plain"), answer("done"))
    agent = AgentSpec.from_config(config, retry=FAST_RETRY, pool_size=1, tools=("pure", "plain"))
    with System(config, agents=[agent], providers={"default": provider}, tools=registry) as system:
        result = system.run("go")
    assert result.status == "completed"
    assert threads["pure"].startswith("AgentActor") and threads["plain"].startswith("tools-")


def test_a_long_run_of_inline_turns_completes_in_order(config: Config) -> None:
    turns = 60
    provider = InlineQueueProvider(*[call("calculator", f"c{i}", expression=f"{i}+1") for i in range(turns)],
                                   answer("done"))
    with start(config, provider, max_iterations=turns + 1) as system:
        result = system.run("count")
        stored = system.events(result.run_id)
    assert (result.status, result.output) == ("completed", "done")
    results = [e.data["result"]["result"] for e in result.events if e.type == "tool.result"]
    assert results == [i + 1 for i in range(turns)]
    assert [e.seq for e in stored] == list(range(1, len(result.events) + 1))


def test_a_tool_with_side_effects_cannot_be_inline() -> None:
    with pytest.raises(ValueError, match="cannot run inline"):
        Tool("write", "effects", {"type": "object"}, lambda: None, side_effects=True, inline=True)
