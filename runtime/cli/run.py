"""`agentstage run`: run one prompt on the embedded runtime and print the answer."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from agentstage.runtime.clock import new_id
from agentstage.runtime.cli.common import ExitCode, add_config_flags, config_from_args, emit_json, fail
from agentstage.runtime.cli.progress import TICK, LiveLine

if TYPE_CHECKING:
    from agentstage.runtime.state.records import Event
    from agentstage.runtime.system import RunHandle, System

__all__ = ["register"]


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "run", help="run one prompt to a final answer (embedded runtime)",
        description="Run one prompt through the default agent and print its answer.",
        epilog='example: agentstage run --session demo -- "calculate 2 + 2"',
    )
    add_config_flags(parser, "provider", "model", "max_iterations", "tools", "tool_choice", "max_output_tokens",
                     "guardrails")
    parser.add_argument("--session", help="session id: continue that conversation (default: a new session)")
    parser.add_argument("--json", action="store_true", help="print one JSON object: run_id, session_id, status, output, error, tool_calls, usage")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="step-by-step progress on stderr (default: when stderr is a terminal)")
    parser.add_argument("prompt", nargs="*", help="the prompt (put it after --)")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.llm.factory import explain_choice, resolve_provider_name
    from agentstage.runtime.system import System

    prompt = " ".join(args.prompt).strip()
    if not prompt:
        return fail("the prompt is empty: agentstage run -- \"your prompt\"", ExitCode.USAGE)
    config = config_from_args(args)
    provider = resolve_provider_name(config)
    if provider == "scripted" and not args.json:
        print(f"agentstage: using the offline scripted provider ({explain_choice(config)}); "
              "set a vendor key or AGENTSTAGE_PROVIDER for a real model", file=sys.stderr)
    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    with System(config) as system:
        run_id = new_id()
        watcher = _start_progress(system, run_id) if show_progress else None
        handle = system.run_async(prompt, session=args.session, run_id=run_id)
        try:
            result = handle.result(config.run_timeout)
        except KeyboardInterrupt:
            return _interrupted(system, handle)
        if watcher is not None:
            watcher.join(timeout=2)
        calls = tool_calls(system.events(result.run_id)) if args.json else []
    if args.json:
        emit_json({"run_id": result.run_id, "session_id": result.session_id, "status": result.status,
                   "output": result.output, "error": result.error, "error_type": result.error_type or None,
                   "truncated": result.truncated, "tool_calls": calls, "usage": result.usage.run_view()})
    elif result.ok:
        print(result.output)
        if result.truncated:
            print(f"agentstage: warning: the answer was cut by the output token limit (run {result.run_id}); "
                  "raise --max-output-tokens or AGENTSTAGE_MAX_OUTPUT_TOKENS", file=sys.stderr)
    if not result.ok:
        return fail(f"run {result.run_id} failed: {result.error}", ExitCode.RUN_FAILED) if not args.json else ExitCode.RUN_FAILED
    return ExitCode.OK


def tool_calls(events: list[Event]) -> list[dict[str, Any]]:
    """The run's tool calls in order, each {tool, arguments, result, error}, from its events."""
    calls: dict[str, dict[str, Any]] = {}
    for event in events:
        call_id = event.data.get("tool_call_id")
        if event.type == "tool.call":
            calls[call_id] = {"tool": event.tool, "arguments": event.data.get("arguments"),
                              "result": None, "error": None}
        elif event.type == "tool.result" and call_id in calls:
            calls[call_id].update(result=event.data.get("result"), error=event.error)
    return list(calls.values())


def _interrupted(system: System, handle: RunHandle) -> int:
    """Ctrl-C: say so at once, cancel the run, give it up to 2 s to record `cancelled`, exit 130."""
    import pykka

    print(f"agentstage: interrupted; stopping run {handle.run_id}", file=sys.stderr, flush=True)
    system.cancel(handle.run_id)
    try:
        handle.result(2.0)
    except (pykka.Timeout, KeyboardInterrupt):
        pass
    return ExitCode.INTERRUPTED


_PENDING = {"llm.request": "waiting for the model", "tool.call": "running {tool}"}
_ENDS_PENDING = frozenset({"llm.response", "tool.result", "run.failed", "run.cancelled"})


def _start_progress(system: System, run_id: str) -> threading.Thread:
    subscription = system.subscribe(run_id)
    line = LiveLine()

    def follow() -> None:
        streaming = False
        idle_until = time.monotonic() + system.config.run_timeout
        with subscription:
            while True:
                event = subscription.get(timeout=TICK)
                if event is None:
                    if time.monotonic() > idle_until:
                        return
                    if not streaming:
                        line.tick()
                    continue
                idle_until = time.monotonic() + system.config.run_timeout
                if event.type == "llm.delta":
                    # NOTE: live tokens of a streamed answer; they are printed as they come, not stored.
                    if not streaming:
                        line.clear()
                    print(event.data["text"] if streaming else f"  [...] {event.data['text']}",
                          end="", file=sys.stderr, flush=True)
                    streaming = True
                    continue
                if streaming:
                    print(file=sys.stderr)
                    streaming = False
                elapsed = line.stop() if event.type in _ENDS_PENDING else None
                took = f"  ({elapsed:.2f}s)" if elapsed is not None else ""
                line.print(f"  [{event.seq:>3}] {describe(event)}{took}")
                if event.type in _PENDING:
                    line.start(_PENDING[event.type].format(tool=event.tool))
                if event.type in ("run.completed", "run.failed", "run.cancelled"):
                    return

    thread = threading.Thread(target=follow, name="cli-progress", daemon=True)
    thread.start()
    return thread


def describe(event: Event) -> str:
    """One human line for an event (used by progress output and `runs show`); values print as JSON."""
    data, kind, tool, error, node = event.data, event.type, event.tool, event.error, event.node
    if kind == "tool.call":
        return f"tool.call     {tool}({_short(data.get('arguments'))})"
    if kind == "tool.result":
        return f"tool.result   {tool} -> {'error: ' + error if error else _short(data.get('result'))}"
    if kind == "llm.response":
        calls = data.get("tool_calls") or []
        return f"llm.response  {'asks for ' + ', '.join(c['name'] for c in calls) if calls else _short(data.get('content'))}"
    if kind in _GRAPH_KINDS:
        return f"{kind:<13} {_describe_graph(kind, node, data, error)}"
    if error:
        return f"{kind:<13} {error}"
    if kind == "run.started" and data.get("workflow"):
        return f"run.started   workflow {data['workflow']}"
    return kind


_GRAPH_KINDS = frozenset({"node.entered", "node.exited", "checkpoint.saved", "run.waiting"})


def _describe_graph(kind: str, node: str | None, data: dict, error: str | None) -> str:
    step = f"step {data.get('step')}"
    if kind == "node.entered":
        return f"{step} {node} ({data.get('kind', 'node')})"
    if kind == "checkpoint.saved":
        where = "at start" if node == "__start__" else f"after {node}"
        return f"{step} {where}, next {data.get('next_node') or 'end'}"
    if kind == "run.waiting":
        return f"{step} at {node}" + (f": {data['prompt']}" if data.get("prompt") else "")
    if error:
        return f"{step} {node} failed: {error}"
    details = [f"route {data['route']!r}" if data.get("route") else "",
               f"tool {data['tool']}" if data.get("tool") else "",
               f"wrote {', '.join(data['keys'])}" if data.get("keys") else "",
               f"child run {data['child_run_id']}" if data.get("child_run_id") else ""]
    detail = "; ".join(d for d in details if d)
    return f"{step} {node} -> {data.get('next_node') or 'end'}" + (f" ({detail})" if detail else "")


def _short(value: object, limit: int = 70) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
