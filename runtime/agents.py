"""Agent specifications: what an agent pool is made of."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agentstage.runtime.config import Config
from agentstage.runtime.errors import ConfigError
from agentstage.runtime.guardrails.builtin import parse_guards
from agentstage.runtime.llm.tool_choice import KEYWORDS
from agentstage.runtime.middleware import Middleware
from agentstage.runtime.retry import RetryPolicy

__all__ = ["AgentSpec"]


@dataclass(frozen=True)
class AgentSpec:
    """One kind of agent: provider, prompt, tools, limits; the System runs `pool_size` of them."""

    name: str = "default"
    provider: str | None = None
    model: str = ""
    system_prompt: str = ""
    tools: Sequence[str] = ()
    max_iterations: int = 6
    parallel_tools: bool = False
    max_parallel_tools: int = 8
    tool_timeout: float = 30.0
    retry: RetryPolicy = RetryPolicy()
    stream: bool = False
    tool_choice: str | None = None
    """`auto`, `required`, `none` or a tool name (None: the provider default); a forced one lasts until a tool call."""
    max_output_tokens: int | None = None
    """Output tokens per model call (None: the provider default)."""
    delegates: Sequence[str] = ()
    """Agents this one may ask to do a task (`ask_<agent>` tools); each call is a child run."""
    handoffs: Sequence[str] = ()
    """Agents this one may hand the conversation to (`transfer_to_<agent>`); the callee's answer ends the run."""
    guardrails: Sequence[str] = ()
    """Guardrail settings, `name[:action][=value]`, run before the middleware (see agentstage.runtime.guardrails)."""
    middleware: Sequence[Middleware] = field(default=(), compare=False)
    pool_size: int = 4

    def __post_init__(self) -> None:
        if self.max_iterations < 1:
            raise ValueError("max_iterations must be at least 1")
        if self.pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        if self.max_output_tokens is not None and self.max_output_tokens < 1:
            raise ValueError("max_output_tokens must be at least 1")
        parse_guards(self.guardrails)
        if self.tool_choice is not None and not _valid_choice(self.tool_choice, self.tools):
            raise ValueError(f"tool_choice {self.tool_choice!r} is not auto, required, none or a tool of this agent")

    @classmethod
    def from_config(cls, config: Config, name: str = "default", **changes: object) -> AgentSpec:
        """The default agent described by `config`, with `changes` applied."""
        values = dict(
            name=name, provider=config.provider, model=config.model, system_prompt=config.system_prompt,
            tools=tuple(config.tool_names), max_iterations=config.max_iterations,
            parallel_tools=config.parallel_tools, max_parallel_tools=config.max_parallel_tools,
            tool_timeout=config.tool_timeout, retry=config.retry_policy, pool_size=config.agent_pool_size,
            stream=config.stream, tool_choice=config.tool_choice.strip() or None,
            max_output_tokens=config.max_output_tokens or None, guardrails=tuple(config.guardrail_settings),
        )
        values.update(changes)
        try:
            parse_guards(values["guardrails"])  # type: ignore[arg-type]
        except ValueError as exc:
            raise ConfigError("AGENTSTAGE_GUARDRAILS", config.guardrails, str(exc)) from None
        if "tool_choice" not in changes and values["tool_choice"] and not _valid_choice(values["tool_choice"],
                                                                                         values["tools"]):
            # NOTE: a tool named by AGENTSTAGE_TOOL_CHOICE binds the default agent, not specs with other tools.
            values["tool_choice"] = None
        return cls(**values)


def _valid_choice(choice: str, tools: Sequence[str]) -> bool:
    """A keyword, or a tool name that is among `tools` when they are all plain names (no @bundle or '*')."""
    if choice in KEYWORDS:
        return True
    if not choice or not all(c.isalnum() or c in "_-" for c in choice):
        return False
    return choice in tools or any(name.startswith("@") or "*" in name for name in tools)
