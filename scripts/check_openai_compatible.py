"""Check agentstage against a real OpenAI-compatible server (llama.cpp, vLLM, LM Studio, ...).

Runs agents through `System` with the `openai` provider pointed at BASE_URL and prints one
`PASS`/`FAIL name: detail` line per check: a forced first tool call's round trip (tool runs,
its result goes back, the model answers), plain, streamed and with `required`; the output token cap; the
recorded usage; streaming text deltas. Exits 1 when a check fails. Never part of CI: it needs
a server that this repository does not start.

    .venv/bin/python scripts/check_openai_compatible.py http://127.0.0.1:8000/v1 --model my-model
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentstage.runtime.wire import RunResult
from agentstage.runtime import Config, System
from agentstage.runtime.llm.openai import OpenAIProvider
from agentstage.runtime.state.records import Event
from agentstage.runtime.tools.registry import Tool, ToolRegistry

ADD = Tool("add", "Add two integers and return their sum.",
           {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"], "additionalProperties": False},
           lambda a, b: {"sum": a + b})
TOOL_PROMPT = "Use the add tool to add 2 and 3, then tell me the sum in one short sentence."
CAP = 8
"""Output tokens allowed in the cap check."""


@dataclass
class Outcome:
    """One finished run: its result, its stored events and run row, and the live deltas seen."""

    result: RunResult
    events: list[Event]
    row: Any
    deltas: list[str]


class Checker:
    """Runs prompts against one server and records pass/fail lines."""

    def __init__(self, base_url: str, model: str, api_key: str, timeout: float) -> None:
        self.base_url, self.model, self.api_key, self.timeout = base_url, model, api_key, timeout
        self.home = tempfile.mkdtemp(prefix="agentstage-compat-")
        self.failed = 0

    def run(self, prompt: str, **settings: Any) -> Outcome:
        """`prompt` on a fresh System whose default agent talks to the server with `settings`."""
        config = Config.from_env({}, dotenv=None, home=self.home, llm_timeout=str(self.timeout)).replace(
            max_iterations=4, **{"tools": "", **settings})
        provider = OpenAIProvider(self.api_key, self.model, self.base_url, timeout=self.timeout)
        with System(config, tools=ToolRegistry([ADD]), providers={"default": provider}) as system:
            handle = system.run_async(prompt)
            deltas: list[str] = []
            with system.subscribe(handle.run_id) as subscription:
                while True:
                    event = subscription.get(timeout=self.timeout)
                    if event is None or event.type in ("run.completed", "run.failed", "run.cancelled"):
                        break
                    if event.type == "llm.delta":
                        deltas.append(event.data["text"])
            result = handle.result(self.timeout)
            return Outcome(result, system.events(result.run_id), system.get_run(result.run_id), deltas)

    def check(self, name: str, test: Callable[[], str]) -> None:
        """Run one check; it returns a detail line or raises AssertionError with the reason."""
        try:
            detail = test()
        except AssertionError as failure:
            self.failed += 1
            print(f"FAIL {name}: {failure}", flush=True)
        except Exception as exc:  # NOTE: a crash of one check is its failure; the others still run
            self.failed += 1
            print(f"FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
        else:
            print(f"PASS {name}: {detail}", flush=True)


def _of(events: list[Event], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e.type == kind]


def tool_round_trip(checker: Checker, *, stream: bool, choice: str = "add") -> Callable[[], str]:
    """The model is forced (`choice`) to call a tool first; the tool runs, its result goes back, the model answers."""
    def test() -> str:
        done = checker.run(TOOL_PROMPT, tools="add", tool_choice=choice, stream=stream, max_output_tokens=128)
        result, events = done.result, done.events
        assert result.status == "completed", f"run {result.status}: {result.error}"
        results = _of(events, "tool.result")
        assert results, "the model made no tool call"
        assert results[0].data.get("status", "completed") == "completed", f"tool failed: {results[0].data}"
        responses = _of(events, "llm.response")
        assert len(responses) >= 2, f"no model call after the tool result ({len(responses)} llm.response)"
        final = responses[-1].data
        prompts = [r.data["usage"]["input_tokens"] for r in responses]
        assert not final["tool_calls"], f"the model called a tool again: {final['tool_calls']}"
        assert result.output.strip(), (f"empty answer after the tool result (prompt tokens per call {prompts}: a "
                                       "prompt that did not grow means the server's chat format dropped the tool "
                                       "messages)")
        call = _of(events, "tool.call")[0].data["arguments"]
        fallback = [r.data["metadata"].get("stream_fallback") for r in responses if r.data["metadata"]]
        note = f", stream fallback: {fallback}" if any(fallback) else ""
        return (f"add({call}) -> {results[0]['data'].get('result')}; {len(responses)} model calls, prompt tokens "
                f"{prompts}; answer {result.output.strip()[:80]!r}{note}")
    return test


def output_cap(checker: Checker) -> Callable[[], str]:
    """With max_output_tokens, the answer stops at the cap and the run says it was truncated."""
    def test() -> str:
        done = checker.run("Count from 1 to 200, separated by spaces.", max_output_tokens=CAP)
        result = done.result
        assert result.status == "completed", f"run {result.status}: {result.error}"
        usage = _of(done.events, "llm.response")[-1].data["usage"]
        assert usage["output_tokens"] is not None, "the server reported no usage, so the cap cannot be verified"
        assert usage["output_tokens"] <= CAP, f"{usage['output_tokens']} output tokens > cap {CAP}"
        assert result.truncated, f"not reported truncated (finish reason {_finish(done)!r})"
        return f"{usage['output_tokens']} output tokens <= {CAP}, finish reason {_finish(done)!r}, truncated"
    return test


def usage_recorded(checker: Checker) -> Callable[[], str]:
    """Every model call's usage is reported and the run row sums it."""
    def test() -> str:
        done = checker.run("Say hello in five words.", max_output_tokens=32)
        result, row = done.result, done.row
        assert result.status == "completed", f"run {result.status}: {result.error}"
        assert result.usage.reported, f"{result.usage.unreported} call(s) reported no usage"
        assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0, f"usage {result.usage}"
        assert (row.input_tokens, row.output_tokens) == (result.usage.input_tokens, result.usage.output_tokens), (
            f"stored {row.input_tokens}/{row.output_tokens} != result {result.usage}")
        return f"input {result.usage.input_tokens}, output {result.usage.output_tokens} (stored on the run)"
    return test


def streaming(checker: Checker) -> Callable[[], str]:
    """A streamed answer arrives as several live deltas that add up to the recorded answer, with usage."""
    def test() -> str:
        done = checker.run("Write one sentence about the sea.", stream=True, max_output_tokens=48)
        result = done.result
        assert result.status == "completed", f"run {result.status}: {result.error}"
        metadata = _of(done.events, "llm.response")[-1].data["metadata"]
        assert metadata.get("streamed") and not metadata.get("stream_fallback"), f"not streamed: {metadata}"
        assert len(done.deltas) >= 2, f"{len(done.deltas)} text deltas"
        assert "".join(done.deltas) == result.output, "the deltas do not add up to the recorded answer"
        usage = "usage reported" if result.usage.reported else "no usage chunk (recorded as unknown)"
        return f"{len(done.deltas)} deltas, {len(result.output)} characters, {usage}"
    return test


def _finish(done: Outcome) -> str:
    return _of(done.events, "llm.response")[-1].data["finish_reason"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the server's OpenAI API root, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--model", default="local", help="model name sent in each request (default: local)")
    parser.add_argument("--api-key", default="", help="bearer key, when the server wants one")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per model call and per run")
    args = parser.parse_args(argv)
    checker = Checker(args.base_url.rstrip("/"), args.model, args.api_key, args.timeout)
    checks = [
        ("tool round trip (forced first call: add)", tool_round_trip(checker, stream=False)),
        ("tool round trip, streamed", tool_round_trip(checker, stream=True)),
        ("tool round trip (tool_choice required)", tool_round_trip(checker, stream=False, choice="required")),
        ("max output tokens cap", output_cap(checker)),
        ("usage recorded", usage_recorded(checker)),
        ("streaming", streaming(checker)),
    ]
    for name, test in checks:
        checker.check(name, test)
    print(f"{len(checks) - checker.failed} passed, {checker.failed} failed")
    return 1 if checker.failed else 0


if __name__ == "__main__":
    sys.exit(main())
