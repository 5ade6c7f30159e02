"""The built-in offline provider: deterministic answers from a rule table, tool calls included.

It is not a language model and says so: every response carries `metadata["scripted"] = True`
and the rule that produced it. It exists so the whole agent loop runs with no network and no
credentials (the embedded default) and so tests are exact.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from agentstage.runtime.errors import ConfigError
from agentstage.runtime.llm.types import (ChatMessage, LLMRequest, LLMResponse, Provider, StreamDelta, ToolCall,
                                          Usage)

__all__ = ["Rule", "ScriptedProvider", "default_rules", "load_rules"]


@dataclass(frozen=True, slots=True)
class Rule:
    """When the latest user message matches `pattern`, reply with `reply` or call `tool`.

    `reply` and string values in `arguments` may use `{1}`, `{2}`… for the pattern's groups
    and `{prompt}` for the whole message.
    """

    name: str
    pattern: str
    reply: str | None = None
    tool: str | None = None
    arguments: dict[str, Any] | None = None

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE | re.DOTALL)


_ZERO_TRUST = """Zero trust in 5 bullets:
- Never trust, always verify: no user, device or network location is trusted by default.
- Verify explicitly: authenticate and authorise every request using identity, device health and context.
- Least privilege: grant just-enough, just-in-time access and review it continuously.
- Assume breach: segment networks and workloads so one compromise cannot spread.
- Inspect and log everything: monitor continuously and feed signals back into access decisions."""


_TRIVY = (r"triaging a Trivy vulnerability report\.\nArtifact: ([^\n]*)\nCounts: critical=(\d+) high=(\d+) "
          r"medium=(\d+) low=(\d+) total=(\d+)\nCritical and high findings:\n(.*?)\nAnswer with")
_LOGS = (r"reviewing application logs; secrets are already redacted\.\nCounts: errors=(\d+) warnings=(\d+) "
         r"info=(\d+) rejected=(\d+)")


def default_rules() -> list[Rule]:
    """The rule table used when none is configured (the secops prompts first: they contain 'what is'-like text)."""
    return [
        Rule("trivy-triage", _TRIVY,
             reply="Offline summary of {1}: {2} critical, {3} high, {4} medium and {5} low findings ({6} in all). "
                   "Critical and high, each with the version that fixes it (upgrade, then rebuild the image):\n{7}"),
        Rule("log-review", _LOGS,
             reply="Offline summary: {1} errors, {2} warnings and {3} info lines ({4} malformed lines rejected); "
                   "secrets were redacted before this review. Read the error lines first."),
        Rule("calculate", r"\b(?:calculate|compute|evaluate|what is|what's)\s+([-+*/%^().\d\s]*\d[-+*/%^().\d\s]*)",
             tool="calculator", arguments={"expression": "{1}"}),
        Rule("time", r"\b(?:what time|current time|time is it|today's date|current date)\b",
             tool="current_time", arguments={}),
        Rule("text-stats", r"\b(?:count the words|word count|text stats)\b[^:]*:\s*(.+)",
             tool="text_stats", arguments={"text": "{1}"}),
        Rule("zero-trust", r"\bzero[- ]trust\b", reply=_ZERO_TRUST),
        Rule("greeting", r"^\s*(?:hi|hello|hey)\b", reply="Hello. I am agentstage's offline scripted provider."),
    ]


def load_rules(path: str | Path) -> list[Rule]:
    """Read a JSON rule table: a list of {name, pattern, reply | tool + arguments}."""
    try:
        raw = json.loads(Path(path).read_text())
        rules = [Rule(**item) for item in raw]
        for rule in rules:
            rule.compiled()
            if (rule.reply is None) == (rule.tool is None):
                raise ValueError(f"rule {rule.name!r} needs exactly one of reply or tool")
    except (OSError, ValueError, TypeError, re.error) as exc:
        raise ConfigError("AGENTSTAGE_SCRIPTED_RULES", str(path), str(exc)) from None
    return rules


class ScriptedProvider(Provider):
    """Deterministic offline provider driven by a rule table."""

    name = "scripted"
    inline = True

    def __init__(self, rules: list[Rule] | None = None, model: str = "scripted-v1") -> None:
        self.rules = [(rule, rule.compiled()) for rule in (rules if rules is not None else default_rules())]
        self.model = model or "scripted-v1"

    def generate(self, request: LLMRequest) -> LLMResponse:
        last = request.messages[-1] if request.messages else ChatMessage("user", "")
        if last.role == "tool":
            return self._summarise_tools(request)
        prompt = last.content
        available = {tool.name for tool in request.tools}
        for rule, pattern in self.rules:
            match = pattern.search(prompt)
            if match is None:
                continue
            if rule.tool is None:
                return self._answer(request, _fill(rule.reply or "", match, prompt), rule.name)
            if rule.tool not in available:
                return self._answer(request, f"I would use the {rule.tool} tool, but it is not enabled for this agent.",
                                    rule.name)
            arguments = {k: _fill(v, match, prompt).strip() if isinstance(v, str) else v
                         for k, v in (rule.arguments or {}).items()}
            turn = sum(1 for m in request.messages if m.role == "assistant")
            call = ToolCall(f"call_{turn + 1}_1", rule.tool, arguments)
            return LLMResponse(tool_calls=(call,), usage=_usage(request, json.dumps(arguments)), model=self.model,
                               finish_reason="tool_calls", metadata={"scripted": True, "rule": rule.name})
        return self._answer(
            request,
            "I am agentstage's offline scripted provider, not a language model, and no rule of mine matches "
            "this prompt. Set AGENTSTAGE_PROVIDER (openai, anthropic, gemini, ollama, azure) for open-ended answers.",
            "fallback",
        )

    def stream(self, request: LLMRequest) -> Iterator[StreamDelta]:
        """The answer word by word, then the final response: streaming screens and clients can be tried offline."""
        response = self.generate(request)
        for word in re.findall(r"\s*\S+\s*", response.content or ""):
            yield StreamDelta(text=word)
        yield StreamDelta(final=response)

    def _summarise_tools(self, request: LLMRequest) -> LLMResponse:
        results = []
        for message in reversed(request.messages):
            if message.role != "tool":
                break
            results.append(message)
        parts = []
        for message in reversed(results):
            parts.append(_describe_tool_result(message.name or "tool", message.content))
        return self._answer(request, " ".join(parts), "tool-summary")

    def _answer(self, request: LLMRequest, text: str, rule: str) -> LLMResponse:
        return LLMResponse(content=text, usage=_usage(request, text), model=self.model, finish_reason="stop",
                           metadata={"scripted": True, "rule": rule})


def _fill(template: str, match: re.Match[str], prompt: str) -> str:
    groups = {str(i): (g or "") for i, g in enumerate(match.groups(), start=1)}
    return re.sub(r"\{(\w+)\}", lambda m: prompt if m.group(1) == "prompt" else groups.get(m.group(1), m.group(0)),
                  template)


def _describe_tool_result(tool: str, content: str) -> str:
    try:
        payload = json.loads(content)
    except ValueError:
        return f"{tool} returned: {content}"
    if isinstance(payload, dict) and "error" in payload:
        return f"The {tool} tool failed: {payload['error']}"
    if tool == "calculator" and isinstance(payload, dict) and "result" in payload:
        return f"{payload.get('expression', '').strip()} = {payload['result']}"
    if tool == "current_time" and isinstance(payload, dict) and "iso" in payload:
        return _describe_time(payload)
    if tool == "text_stats" and isinstance(payload, dict) and "words" in payload:
        return _describe_text_stats(payload)
    if isinstance(payload, dict) and payload and all(_scalar(v) for v in payload.values()):
        return f"{tool} returned " + ", ".join(f"{k} {_plain(v)}" for k, v in payload.items()) + "."
    if _scalar(payload):
        return f"{tool} returned {_plain(payload)}."
    return f"{tool} returned: {json.dumps(payload, sort_keys=True)}"


def _describe_time(payload: dict[str, Any]) -> str:
    try:
        now = datetime.fromisoformat(payload["iso"])
    except (TypeError, ValueError):
        return f"The current time is {payload['iso']}."
    return f"It is {now:%H:%M} on {now:%A %d %B %Y} ({payload.get('timezone', 'UTC')}, {payload['iso']})."


def _describe_text_stats(payload: dict[str, Any]) -> str:
    counts = ", ".join(f"{payload[k]} {k if payload[k] != 1 else k[:-1]}"
                       for k in ("words", "characters", "lines", "sentences") if isinstance(payload.get(k), int))
    top = [f"{w['word']} ({w['count']})" for w in payload.get("top_words", []) if isinstance(w, dict) and "word" in w]
    return f"The text has {counts}" + (f"; most frequent: {', '.join(top[:3])}." if top else ".")


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _plain(value: Any) -> str:
    return json.dumps(value) if value is None or isinstance(value, bool) else str(value)


def _usage(request: LLMRequest, output: str) -> Usage:
    chars = len(request.system) + sum(len(m.content) for m in request.messages)
    return Usage(input_tokens=math.ceil(chars / 4), output_tokens=math.ceil(len(output) / 4))
