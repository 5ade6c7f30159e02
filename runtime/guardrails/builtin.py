"""The built-in guardrails and how a setting names one: `name[:action][=value]`, list values split by `|`.

For example `pii_filter`, `prompt_injection:warn`, `max_length=8000`, `topic_filter=crypto|gambling`,
`tool_allowlist=calculator|current_time`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable

from agentstage.runtime.guardrails.guard import Finding, Guard, normalize
from agentstage.runtime.secret_patterns import redact_secrets

__all__ = ["BUILTIN_GUARDS", "catalog", "parse_guard", "parse_guards"]


class MaxLength(Guard):
    name = "max_length"
    description = "blocks a message or answer longer than a limit in characters (default 10000)"
    configurable = True

    def __init__(self, action: str | None = None, value: str = "") -> None:
        super().__init__(action, value)
        try:
            self.limit = int(value) if value else 10_000
        except ValueError:
            raise ValueError(f"guardrail max_length: the limit must be a whole number, not {value!r}") from None
        if self.limit < 1:
            raise ValueError("guardrail max_length: the limit must be at least 1")

    def inspect(self, text: str) -> Finding | None:
        if len(text) > self.limit:
            return Finding(f"{len(text)} characters, more than the limit of {self.limit}")
        return None


_INJECTION_SOURCES = (
    r"\b(?:ignore|skip|bypass)\b.{0,20}\b(?:previous|prior|above|earlier|preceding|all|any|your)\b.{0,20}"
    r"\b(?:instructions?|prompts?|rules|directions|guidelines|messages)\b",
    r"\bdisregard\b.{0,30}\b(?:instructions?|rules|guidelines|programming|prompts?|policy|policies)\b",
    r"\bforget\b.{0,20}\b(?:everything|instructions?|rules|guidelines|you were told)\b",
    r"\byou are now\b.{0,20}\b(?:dan|jailbroken|unrestricted|unfiltered|uncensored|free of)\b",
    r"\bdan mode\b|\bdo anything now\b",
    r"\bjail ?break(?:ing|en)?\b",
    r"\b(?:enable|activate|enter)\b.{0,10}\bdeveloper mode\b",
    r"\b(?:reveal|print|show|repeat|output|leak|dump)\b.{0,20}\b(?:system prompt|hidden (?:instructions|prompt)"
    r"|initial (?:instructions|prompt)|original (?:instructions|prompt))",
    r"\b(?:new|updated|override) (?:system )?instructions?\s*:",
    r"\boverride\b.{0,20}\b(?:instructions|rules|safety|guardrails|restrictions)\b",
    r"\b(?:pretend|act as if|act like|roleplay as)\b.{0,60}\b(?:no|without) (?:restrictions|rules|filters|limits"
    r"|guidelines)\b",
    r"<\|?\s*(?:im_start|system|endoftext)\s*\|?>|\[/?(?:system|inst)\]|^#{2,} ?system\b",
    r"\bfrom now on\b.{0,30}\b(?:ignore|not follow|no longer follow|have no)\b",
    r"\b(?:begin|start) of (?:the )?(?:system|admin|developer) (?:message|prompt|instructions)\b",
)


@functools.cache
def _injection() -> tuple[re.Pattern[str], ...]:
    """The injection patterns, compiled when a guard first inspects a text (PERF: not at every start)."""
    return tuple(re.compile(p) for p in _INJECTION_SOURCES)


class PromptInjection(Guard):
    name = "prompt_injection"
    description = ("blocks text that tries to override the agent's instructions (user messages and tool "
                   "results alike: injections often arrive through a fetched page)")
    directions = ("input",)

    def inspect(self, text: str) -> Finding | None:
        seen = normalize(text)
        for pattern in _injection():
            match = pattern.search(seen)
            if match:
                return Finding(f"looks like a prompt injection: {match.group(0)[:80]!r}")
        return None


class _Terms(Guard):
    """Blocks a text that mentions any of the configured terms (whole words, case and spacing folded)."""

    configurable = True
    kind = "a filtered term"

    def __init__(self, action: str | None = None, value: str = "") -> None:
        super().__init__(action, value)
        self.terms = tuple(normalize(t) for t in value.split("|") if t.strip())
        if not self.terms:
            raise ValueError(f"guardrail {self.name} needs terms, e.g. {self.name}=first term|second term")
        self._pattern = re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in self.terms))

    def inspect(self, text: str) -> Finding | None:
        match = self._pattern.search(normalize(text))
        return Finding(f"mentions {self.kind} {match.group(0)!r}") if match else None


class ContentFilter(_Terms):
    name = "content_filter"
    description = "blocks text containing any of the configured words or phrases"


class TopicFilter(_Terms):
    name = "topic_filter"
    description = "blocks text about any of the configured denied topics"
    kind = "the denied topic"


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


_PII_SOURCES: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("CREDIT_CARD", r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])",
     lambda s: _luhn(re.sub(r"\D", "", s))),
    ("SSN", r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])", lambda s: True),
    ("EMAIL", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", lambda s: True),
    ("PHONE", r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]\d{4}(?!\d)", lambda s: True),
    ("IP_ADDRESS", r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
                   r"(?![\d.])", lambda s: True),
)


@functools.cache
def _pii() -> tuple[tuple[str, re.Pattern[str], Callable[[str], bool]], ...]:
    """The personal-data patterns with their checks, compiled on first use."""
    return tuple((label, re.compile(pattern), check) for label, pattern, check in _PII_SOURCES)


class PiiFilter(Guard):
    name = "pii_filter"
    description = ("redacts personal data: credit card numbers (Luhn-checked), US social security numbers, "
                   "email addresses, phone numbers and IPv4 addresses become [TYPE_REDACTED]")
    default_action = "redact"
    redacts = True

    def inspect(self, text: str) -> Finding | None:
        found: list[str] = []
        for label, pattern, check in _pii():
            def replace(match: re.Match[str], label: str = label, check: Callable[[str], bool] = check) -> str:
                if not check(match.group(0)):
                    return match.group(0)
                found.append(label)
                return f"[{label}_REDACTED]"

            text = pattern.sub(replace, text)
        if not found:
            return None
        return Finding("personal data: " + ", ".join(sorted(set(found), key=found.index)).lower(), text)


class SecretGuard(Guard):
    name = "secret_guard"
    description = ("redacts credentials (cloud keys, tokens, private keys, JWTs, passwords and connection "
                   "strings), including in tool arguments before a tool can send them anywhere")
    directions = ("input", "output", "tool")
    default_action = "redact"
    redacts = True

    def inspect(self, text: str) -> Finding | None:
        result = redact_secrets(text)
        if not result["redaction_count"]:
            return None
        return Finding("secrets: " + ", ".join(result["detected_types"]), result["redacted_text"])


class JsonOutput(Guard):
    name = "json_output"
    description = "blocks an answer that is not valid JSON (a ```json fence around it is accepted)"
    directions = ("output",)

    def inspect(self, text: str) -> Finding | None:
        body = text.strip()
        fenced = re.fullmatch(r"```(?:json)?\s*\n(.*?)\n?```", body, re.S)
        try:
            json.loads(fenced.group(1) if fenced else body)
        except ValueError as exc:
            return Finding(f"not valid JSON: {exc}")
        return None


class ToolAllowlist(Guard):
    name = "tool_allowlist"
    description = "blocks a call of any tool not on the configured list, before it runs"
    directions = ("tool",)
    configurable = True

    def __init__(self, action: str | None = None, value: str = "") -> None:
        super().__init__(action, value)
        self.allowed = frozenset(t.strip() for t in value.split("|") if t.strip())
        if not self.allowed:
            raise ValueError("guardrail tool_allowlist needs tool names, e.g. tool_allowlist=calculator|current_time")

    def inspect(self, text: str) -> Finding | None:
        return None

    def inspect_tool(self, name: str) -> Finding | None:
        if name in self.allowed:
            return None
        return Finding(f"tool {name!r} is not allowed (allowed: {', '.join(sorted(self.allowed))})")


BUILTIN_GUARDS: dict[str, type[Guard]] = {g.name: g for g in (
    MaxLength, PromptInjection, ContentFilter, PiiFilter, TopicFilter, SecretGuard, JsonOutput, ToolAllowlist)}


def parse_guard(text: str) -> Guard:
    """A guard from `name[:action][=value]`; a ValueError says what is wrong with the setting."""
    head, _, value = text.strip().partition("=")
    name, _, action = head.strip().partition(":")
    kind = BUILTIN_GUARDS.get(name.strip())
    if kind is None:
        raise ValueError(f"unknown guardrail {name.strip()!r}; known: {', '.join(BUILTIN_GUARDS)}")
    return kind(action.strip() or None, value.strip())  # type: ignore[call-arg]


def parse_guards(items: Iterable[str]) -> tuple[Guard, ...]:
    """Guards from settings, in order (the order they run in)."""
    return tuple(parse_guard(item) for item in items if item.strip())


def catalog() -> list[dict[str, object]]:
    """What each built-in does, for the API and the CLI."""
    entries = []
    for kind in BUILTIN_GUARDS.values():
        entry = {"name": kind.name, "description": kind.description, "directions": list(kind.directions),
                 "default_action": kind.default_action, "configurable": kind.configurable}
        entry["direction"] = ("both" if {"input", "output"} <= set(kind.directions) else kind.directions[0])
        entries.append(entry)
    return entries
