"""Provider-neutral chat types: what goes into an LLM call and what comes back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
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
    "UNREPORTED",
    "local_call_id",
    "Usage",
]

_LENGTH_REASONS = frozenset({"length", "max_tokens", "MAX_TOKENS"})
"""OpenAI and Ollama `length`, Anthropic `max_tokens`, Gemini `MAX_TOKENS`."""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one LLM call or a whole run."""

    input_tokens: int = 0
    output_tokens: int = 0
    unreported: int = 0
    """How many of the counted calls' servers reported no usage: their tokens are unknown, not 0."""

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def reported(self) -> bool:
        """Whether every counted call's usage was reported by its server."""
        return self.unreported == 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens,
                     self.unreported + other.unreported)

    def call_view(self) -> dict[str, int | None]:
        """One call's usage as recorded on its event: null counts when the server reported none."""
        if self.unreported and not self.total_tokens:
            return {"input_tokens": None, "output_tokens": None}
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}

    def run_view(self) -> dict[str, int]:
        """A run's usage: the reported counts, and how many calls reported none (when any did)."""
        view = {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "total_tokens": self.total_tokens}
        return {**view, "unreported_calls": self.unreported} if self.unreported else view


UNREPORTED = Usage(unreported=1)
"""The usage of a call whose server sent no usage (a stream without a usage chunk, a bare body)."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool invocation the model asked for."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Vendor data the model needs back verbatim with this call (Gemini's `thoughtSignature`)."""


def local_call_id() -> str:
    """A unique id for a tool call a server sent without one (vendors that number none: Gemini, Ollama).

    Unique across turns, so a tool result never answers a call of an earlier turn.
    """
    return f"call_{uuid.uuid4().hex[:24]}"


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
    tool_choice: str | None = None
    """`auto`, `required`, `none` or a tool's name; None is the provider default (adapters send `auto`)."""


@dataclass(frozen=True, slots=True)
class LLMResponse:
    """A provider's answer: text and/or tool calls, usage, and what produced it."""

    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = Usage()
    model: str = ""
    finish_reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def truncated(self) -> bool:
        """Whether the output token limit cut this answer (each vendor's finish reason for it)."""
        return self.finish_reason in _LENGTH_REASONS


@dataclass(frozen=True, slots=True)
class StreamDelta:
    """A piece of a streamed answer: a text fragment, or the final assembled response."""

    text: str = ""
    final: LLMResponse | None = None


class Provider:
    """Interface of an LLM provider; adapters subclass it and override `generate` (and `agenerate`).

    Adapters raise `RateLimited`, `TransientError` or `FatalError` (runtime.errors) and
    never retry on their own behalf unless documented; the agent's retry policy decides.
    The agent uses the async path (`agenerate`/`astream`) on the process's I/O loop; a provider
    that only implements the synchronous methods keeps working: they run on the loop's bounded
    executor. `inline` providers (CPU only, never blocking) are called on the agent's own thread.
    """

    name: str = "provider"
    inline: bool = False

    def generate(self, request: LLMRequest) -> LLMResponse:
        """Run one chat completion; blocks the calling thread."""
        raise NotImplementedError

    def stream(self, request: LLMRequest) -> Iterator[StreamDelta]:
        """Yield text deltas then one delta carrying the final response.

        The default streams nothing incrementally: it yields the whole answer at once.
        """
        response = self.generate(request)
        if response.content:
            yield StreamDelta(text=response.content)
        yield StreamDelta(final=response)

    async def agenerate(self, request: LLMRequest) -> LLMResponse:
        """One chat completion on the I/O loop; the default runs `generate` on the loop's executor."""
        return await asyncio.get_running_loop().run_in_executor(None, self.generate, request)

    async def astream(self, request: LLMRequest) -> AsyncIterator[StreamDelta]:
        """`stream` on the I/O loop; the default runs the synchronous stream on the loop's executor."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[StreamDelta | None, BaseException | None]] = asyncio.Queue()

        def pump() -> None:
            try:
                for delta in self.stream(request):
                    loop.call_soon_threadsafe(queue.put_nowait, (delta, None))
                loop.call_soon_threadsafe(queue.put_nowait, (None, None))
            except BaseException as exc:  # NOTE: handed to the awaiting coroutine, which re-raises it
                loop.call_soon_threadsafe(queue.put_nowait, (None, exc))

        loop.run_in_executor(None, pump)
        while True:
            delta, error = await queue.get()
            if error is not None:
                raise error
            if delta is None:
                return
            yield delta

    def close(self) -> None:
        """Release connections; called when the System stops."""

    async def aclose(self) -> None:
        """Release async connections; awaited on the I/O loop when the System stops."""
