"""Choose and build a provider from configuration."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from agentstage.runtime.config import Config
from agentstage.runtime.errors import ConfigError

if TYPE_CHECKING:
    from agentstage.runtime.llm._http import HttpOptions
    from agentstage.runtime.llm.types import Provider

__all__ = ["AUTO_ORDER", "PROVIDERS", "create_provider", "explain_choice", "resolve_provider_name"]

# NOTE: each factory imports its adapter, so the HTTP stack is loaded only when a vendor provider is built.


def _scripted(config: Config) -> Provider:
    from agentstage.runtime.llm.scripted import ScriptedProvider, load_rules

    rules = load_rules(config.scripted_rules) if config.scripted_rules else None
    return ScriptedProvider(rules, model=config.model)


def _credential(config: Config, variable: str, provider: str) -> str:
    """A credential from `.env`/environment; ConfigError naming the variable when missing (never its value)."""
    value = config.env.get(variable, "").strip()
    if not value:
        raise ConfigError(variable, "", f"required by provider {provider}; set it in the environment or .env")
    return value


def _http_options(config: Config) -> HttpOptions:
    """The timeouts and connection limit every vendor adapter's clients are built with."""
    import httpx

    from agentstage.runtime.llm._clients import DEFAULT_LIMITS

    connections = config.llm_max_connections
    if connections < 1:
        raise ConfigError("AGENTSTAGE_LLM_MAX_CONNECTIONS", connections, "must be at least 1")
    kept = min(DEFAULT_LIMITS.max_keepalive_connections or connections, connections)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=kept)
    return {"timeout": config.llm_timeout, "connect_timeout": config.llm_connect_timeout, "limits": limits}


def _openai(config: Config) -> Provider:
    from agentstage.runtime.llm.openai import DEFAULT_BASE_URL as OPENAI_URL
    from agentstage.runtime.llm.openai import OpenAIProvider

    base_url = config.env.get("OPENAI_BASE_URL", "").strip()
    # NOTE: OpenAI-compatible servers (vLLM, llama.cpp, LM Studio) usually need no key.
    key = config.env.get("OPENAI_API_KEY", "").strip() if base_url else _credential(config, "OPENAI_API_KEY", "openai")
    return OpenAIProvider(key, config.model, base_url or OPENAI_URL,
                          organization=config.env.get("OPENAI_ORG_ID", ""), **_http_options(config))


def _azure(config: Config) -> Provider:
    from agentstage.runtime.llm.azure import DEFAULT_API_VERSION as AZURE_API_VERSION
    from agentstage.runtime.llm.azure import AzureOpenAIProvider

    key = config.env.get("AZURE_OPENAI_API_KEY", "").strip()
    token = config.env.get("AZURE_OPENAI_AD_TOKEN", "").strip()
    if not key and not token:
        raise ConfigError("AZURE_OPENAI_API_KEY", "", "required by provider azure, or a Microsoft Entra ID token in "
                                                      "AZURE_OPENAI_AD_TOKEN; set one in the environment or .env")
    return AzureOpenAIProvider(
        key, _credential(config, "AZURE_OPENAI_ENDPOINT", "azure"),
        config.model or _credential(config, "AZURE_OPENAI_DEPLOYMENT", "azure"),
        config.env.get("AZURE_OPENAI_API_VERSION") or config.env.get("OPENAI_API_VERSION") or AZURE_API_VERSION,
        ad_token=token, **_http_options(config))


def _anthropic(config: Config) -> Provider:
    from agentstage.runtime.llm.anthropic import DEFAULT_BASE_URL as ANTHROPIC_URL
    from agentstage.runtime.llm.anthropic import AnthropicProvider

    return AnthropicProvider(_credential(config, "ANTHROPIC_API_KEY", "anthropic"), config.model,
                             config.env.get("ANTHROPIC_BASE_URL") or ANTHROPIC_URL, **_http_options(config))


def _gemini(config: Config) -> Provider:
    from agentstage.runtime.llm.gemini import DEFAULT_BASE_URL as GEMINI_URL
    from agentstage.runtime.llm.gemini import GeminiProvider

    return GeminiProvider(_credential(config, "GEMINI_API_KEY", "gemini"), config.model,
                          config.env.get("GEMINI_BASE_URL") or GEMINI_URL, **_http_options(config))


def _ollama(config: Config) -> Provider:
    from agentstage.runtime.llm.ollama import DEFAULT_HOST as OLLAMA_HOST
    from agentstage.runtime.llm.ollama import OllamaProvider

    return OllamaProvider(config.model, config.env.get("OLLAMA_HOST") or OLLAMA_HOST, **_http_options(config))


PROVIDERS: dict[str, Callable[[Config], Provider]] = {
    "anthropic": _anthropic,
    "azure": _azure,
    "gemini": _gemini,
    "ollama": _ollama,
    "openai": _openai,
    "scripted": _scripted,
}
"""Provider factories by name; vendor adapters add themselves here."""

AUTO_ORDER: tuple[tuple[str, str], ...] = (
    ("openai", "OPENAI_API_KEY"),
    ("anthropic", "ANTHROPIC_API_KEY"),
    ("gemini", "GEMINI_API_KEY"),
    ("azure", "AZURE_OPENAI_API_KEY"),
    ("azure", "AZURE_OPENAI_AD_TOKEN"),
    ("ollama", "OLLAMA_HOST"),
)
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


def explain_choice(config: Config, name: str | None = None) -> str:
    """Why `resolve_provider_name` picks what it picks, as a short phrase for stderr."""
    chosen = (name or config.provider or "auto").lower()
    resolved = resolve_provider_name(config, name)
    if chosen != "auto":
        return f"AGENTSTAGE_PROVIDER={chosen}"
    if resolved == "scripted":
        return f"auto found none of {', '.join(variable for _, variable in AUTO_ORDER)} in the environment or .env"
    return f"auto found {next(v for p, v in AUTO_ORDER if p == resolved and config.env.get(v))}"


def create_provider(config: Config, name: str | None = None) -> Provider:
    """Build the provider `name` (default: the configured one) from `config`."""
    return PROVIDERS[resolve_provider_name(config, name)](config)
