"""Choose and build a provider from configuration."""

from __future__ import annotations

from collections.abc import Callable

from agentstage.runtime.config import Config
from agentstage.runtime.errors import ConfigError
from agentstage.runtime.llm.scripted import ScriptedProvider, load_rules
from agentstage.runtime.llm.types import Provider

__all__ = ["PROVIDERS", "create_provider", "resolve_provider_name"]


def _scripted(config: Config) -> Provider:
    rules = load_rules(config.scripted_rules) if config.scripted_rules else None
    return ScriptedProvider(rules, model=config.model)


PROVIDERS: dict[str, Callable[[Config], Provider]] = {"scripted": _scripted}
"""Provider factories by name; vendor adapters add themselves here."""

AUTO_ORDER: tuple[tuple[str, str], ...] = ()
"""(provider, credential variable) pairs `auto` tries in order before falling back to scripted."""


def resolve_provider_name(config: Config, name: str | None = None) -> str:
    """The concrete provider name for `name` (or the configured one); `auto` picks by credentials."""
    chosen = (name or config.provider or "auto").lower()
    if chosen == "auto":
        for provider, variable in AUTO_ORDER:
            if config.env.get(variable):
                return provider
        return "scripted"
    if chosen not in PROVIDERS:
        raise ConfigError("AGENTSTAGE_PROVIDER", chosen, f"unknown provider; choose auto or one of {', '.join(sorted(PROVIDERS))}")
    return chosen


def create_provider(config: Config, name: str | None = None) -> Provider:
    """Build the provider `name` (default: the configured one) from `config`."""
    return PROVIDERS[resolve_provider_name(config, name)](config)
