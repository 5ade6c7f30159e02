"""Many runs in flight on one agent actor: out-of-order answers, slow tools, cancel, retries, crashes, admission."""

from __future__ import annotations

import asyncio
import dataclasses
import threading

import pytest

from agentstage.runtime import AgentSpec, Config, Middleware, RetryPolicy, System
from agentstage.runtime.errors import NotFound, RateLimited
from agentstage.runtime.llm.types import LLMRequest, LLMResponse, Provider, ToolCall, Usage
from agentstage.runtime.tools import Tool, ToolRegistry, builtin_tools

WAIT = 30


class GatedProvider(Provider):
    """An async provider: each prompt waits until the test opens its gate; counts calls waiting at once."""

    name = "gated"

    def __init__(self) -> None:
        self.gates: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        self.waiting = 0
        self.most_waiting = 0
        self.calls: list[str] = []
        self.failures: dict[str, list[BaseException]] = {}
        self.replies: dict[str, LLMResponse] = {}

    def gate(self, prompt: str) -> threading.Event:
        with self.lock:
            return self.gates.setdefault(prompt, threading.Event())

    async def agenerate(self, request: LLMRequest) -> LLMResponse:
        prompt = next(m.content for m in request.messages if m.role == "user")
        with self.lock:
            self.calls.append(prompt)
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
        try:
            failures = self.failures.get(prompt)
            if failures:
                raise failures.pop(0)
            gate = self.gate(prompt)
            while not gate.is_set():
                await asyncio.sleep(0.002)
        finally:
            with self.lock:
                self.waiting -= 1
        if request.messages[-1].role == "tool" and not prompt.startswith("loop"):
            return LLMResponse(content=f"tool said {request.messages[-1].content}", usage=Usage(1, 1))
        return self.replies.get(prompt, LLMResponse(content=f"answer to {prompt}", usage=Usage(3, 1)))

    def generate(self, request: LLMRequest) -> LLMResponse:
        raise AssertionError("the agent must use the async path")


def start(config: Config, provider: Provider, registry: ToolRegistry | None = None, **spec: object) -> System:
    options = {"retry": RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.01), "pool_size": 1, **spec}
    agent = AgentSpec.from_config(config, **options)
    return System(config, agents=[agent], providers={"default": provider}, tools=registry).start()


def _status(system: System, run_id: str) -> str | None:
    """A run's stored status, None until its first write has committed."""
    try:
        return system.get_run(run_id).status
    except NotFound:
        return None


def wait_until(predicate, what: str) -> None:
    event = threading.Event()
    for _ in range(WAIT * 100):
        if predicate():
            return
        event.wait(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_one_actor_holds_many_runs_and_answers_arrive_out_of_order(config: Config) -> None:
    provider = GatedProvider()
    with start(config, provider) as system:
        handles = [system.run_async(f"p{i}") for i in range(50)]
        wait_until(lambda: provider.waiting == 50, "50 runs waiting on the model at once")
        for i in reversed(range(50)):
            provider.gate(f"p{i}").set()
        results = [h.result(WAIT) for h in handles]
    assert provider.most_waiting == 50
    assert [r.output for r in results] == [f"answer to p{i}" for i in range(50)]
    assert all([e.seq for e in r.events] == [1, 2, 3, 4] for r in results)


def test_a_slow_tool_does_not_delay_other_runs(config: Config) -> None:
    release = threading.Event()
    slow = Tool("slow", "waits", {"type": "object", "properties": {}}, lambda: release.wait(WAIT) and "slow done")
    provider = GatedProvider()
    provider.replies["uses slow"] = LLMResponse(tool_calls=(ToolCall("c1", "slow", {}),))
    provider.gate("uses slow").set()
    provider.gate("quick").set()
    with start(config, provider, ToolRegistry([slow, *builtin_tools()]), tools=("slow",)) as system:
        slow_run = system.run_async("uses slow")
        wait_until(lambda: any(e.type == "tool.call" for e in system.events(slow_run.run_id)), "the slow call")
        quick = system.run("quick", timeout=WAIT)
        slow_status = system.get_run(slow_run.run_id).status
        release.set()
        finished = slow_run.result(WAIT)
    assert quick.output == "answer to quick" and slow_status == "running"
    assert finished.status == "completed" and "slow done" in finished.output


def test_cancel_ends_a_run_waiting_on_the_model_at_once_and_leaves_the_others(config: Config) -> None:
    provider = GatedProvider()
    with start(config, provider) as system:
        stuck = system.run_async("never answered")
        other = system.run_async("answered")
        wait_until(lambda: provider.waiting == 2, "both runs on the model")
        system.cancel(stuck.run_id)
        cancelled = stuck.result(WAIT)
        provider.gate("answered").set()
        completed = other.result(WAIT)
        row = system.get_run(stuck.run_id)
    assert (cancelled.status, row.status) == ("cancelled", "cancelled")
    assert completed.status == "completed"


def test_a_retry_waits_on_a_timer_while_other_runs_go_on(config: Config) -> None:
    provider = GatedProvider()
    provider.failures["limited"] = [RateLimited("gated", "429", retry_after=30)]
    provider.gate("free").set()
    with start(config, provider) as system:
        limited = system.run_async("limited")
        wait_until(lambda: any(e.type == "llm.retry" for e in system.events(limited.run_id)), "the retry")
        free = system.run("free", timeout=WAIT)
        still_waiting = system.get_run(limited.run_id).status
        system.cancel(limited.run_id)
        ended = limited.result(WAIT)
    assert free.status == "completed" and still_waiting == "running"
    assert ended.status == "cancelled"
    retry = next(e for e in ended.events if e.type == "llm.retry")
    assert retry.data == {"attempt": 1, "delay_s": 30.0}


class ShortCircuit(Middleware):
    def before_generate(self, ctx, request):
        if request.messages[0].content.startswith("short"):
            return LLMResponse(content="from middleware")
        return None


def test_max_iterations_and_short_circuits_hold_with_runs_interleaved(config: Config) -> None:
    provider = GatedProvider()
    for i in range(10):
        provider.replies[f"loop{i}"] = LLMResponse(tool_calls=(ToolCall("c", "calculator", {"expression": "1+1"}),))
        provider.gate(f"loop{i}").set()
    with start(config, provider, max_iterations=3, middleware=(ShortCircuit(),), pool_size=2) as system:
        handles = [system.run_async(f"loop{i}") for i in range(10)] + [system.run_async(f"short{i}") for i in range(10)]
        results = [h.result(WAIT) for h in handles]
    loops, shorts = results[:10], results[10:]
    assert all(r.status == "failed" and "max iterations reached (3)" in r.error for r in loops)
    assert all(sum(e.type == "tool.result" for e in r.events) == 3 for r in loops)
    assert all(r.output == "from middleware" for r in shorts)


class Boom(GatedProvider):
    async def agenerate(self, request: LLMRequest) -> LLMResponse:
        if request.messages[0].content == "boom":
            raise KeyError("bug in provider")
        return await super().agenerate(request)


def test_a_crash_fails_its_own_run_once_and_the_successor_finishes_the_others(config: Config) -> None:
    provider = Boom()
    with start(config, provider) as system:
        pool = system._pools["default"]
        others = [system.run_async(f"o{i}") for i in range(20)]
        wait_until(lambda: provider.waiting == 20, "20 runs on the model")
        crashed = system.run_async("boom").result(WAIT)
        wait_until(lambda: pool.slots[0].restarts == 1, "the restart")
        for i in range(20):
            provider.gate(f"o{i}").set()
        results = [h.result(WAIT) for h in others]
        rows = [system.get_run(h.run_id).status for h in others]
        crashed_events = system.events(crashed.run_id)
    assert crashed.status == "failed" and "agent crashed" in crashed.error and "bug in provider" in crashed.error
    assert [e.type for e in crashed_events].count("run.failed") == 1
    assert all(r.status == "completed" for r in results) and rows == ["completed"] * 20
    assert all([e.type for e in r.events].count("run.completed") == 1 for r in results)


def test_runs_beyond_the_admission_limit_wait_as_queued(config: Config) -> None:
    provider = GatedProvider()
    limited = dataclasses.replace(config, max_runs=2)
    with start(limited, provider) as system:
        handles = [system.run_async(f"q{i}") for i in range(5)]
        wait_until(lambda: provider.waiting == 2, "two admitted runs")
        wait_until(lambda: all(_status(system, h.run_id) == "queued" for h in handles[2:]), "queued rows")
        queued_rows = [system.events(h.run_id)[0].type for h in handles[2:]]
        for i in range(5):
            provider.gate(f"q{i}").set()
        results = [h.result(WAIT) for h in handles]
    assert provider.most_waiting == 2
    assert queued_rows == ["run.queued"] * 3
    assert all(r.status == "completed" for r in results)
    assert [e.type for e in results[4].events][0] == "run.started" and results[4].events[0].seq == 2


def test_stopping_the_system_cancels_runs_still_in_flight(config: Config) -> None:
    provider = GatedProvider()
    system = start(config, provider)
    handle = system.run_async("never answered")
    wait_until(lambda: provider.waiting == 1, "the run on the model")
    system.stop(timeout=1.0)
    result = handle.result(WAIT)
    with System(config) as reopened:
        row = reopened.get_run(handle.run_id)
    assert result.status == "cancelled" and row.status == "cancelled"


@pytest.mark.parametrize("parallel", [False, True])
def test_tool_results_keep_call_order_whatever_order_they_finish_in(config: Config, parallel: bool) -> None:
    gates = {name: threading.Event() for name in ("first", "second")}
    tools = ToolRegistry([Tool(name, name, {"type": "object", "properties": {}},
                               lambda name=name: gates[name].wait(WAIT) and name) for name in gates])
    provider = GatedProvider()
    provider.replies["both"] = LLMResponse(tool_calls=(ToolCall("a", "first", {}), ToolCall("b", "second", {})))
    provider.gate("both").set()
    with start(config, provider, tools, tools=("first", "second"), parallel_tools=parallel) as system:
        handle = system.run_async("both")
        if parallel:
            gates["second"].set()
        gates["first"].set()
        gates["second"].set()
        result = handle.result(WAIT)
    assert [e.tool for e in result.events if e.type == "tool.result"] == ["first", "second"]
