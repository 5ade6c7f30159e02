"""Provider-neutral chat types: what goes into an LLM call and what comes back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ChatMessage",
    "LLMRequest",
    "LLMResponse",
    "Provider",
    "StreamDelta",
    "ToolCall",
    "ToolSpec",
    "Usage",
]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one LLM call or a whole run."""

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool invocation the model asked for."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Vendor data the model needs back verbatim with this call (Gemini's `thoughtSignature`)."""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of a conversation: role is system, user, assistant or tool."""

    role: str
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the model sees it: name, description and JSON-schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LLMRequest:
    """Everything a provider needs for one generate call."""

    messages: tuple[ChatMessage, ...]
    tools: tuple[ToolSpec, ...] = ()
    system: str = ""
    model: str = ""
    max_output_tokens: int | None = None
    temperature: float | None = None


@dataclass(frozen=True, slots=True)
class LLMResponse:
    """A provider's answer: text and/or tool calls, usage, and what produced it."""

    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = Usage()
    model: str = ""
    finish_reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StreamDelta:
    """A piece of a streamed answer: a text fragment, or the final assembled response."""

    text: str = ""
    final: LLMResponse | None = None


class Provider:
    """Interface of an LLM provider; adapters subclass it and override `generate`.

    Adapters raise `RateLimited`, `TransientError` or `FatalError` (runtime.errors) and
    never retry on their own behalf unless documented; the agent's retry policy decides.
    """

    name: str = "provider"

    def generate(self, request: LLMRequest) -> LLMResponse:
        """Run one chat completion; called on the agent actor's thread and may block."""
        raise NotImplementedError

    def stream(self, request: LLMRequest) -> Iterator[StreamDelta]:
        """Yield text deltas then one delta carrying the final response.

        The default streams nothing incrementally: it yields the whole answer at once.
        """
        response = self.generate(request)
        if response.content:
            yield StreamDelta(text=response.content)
        yield StreamDelta(final=response)

    def close(self) -> None:
        """Release connections; called when the System stops."""
