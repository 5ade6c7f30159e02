"""The models a provider offers, for the DevUI's model picker: asked of the provider's server when it is
configured (OpenAI or a compatible server, Gemini, Ollama), else a short fallback list.

The server is asked through the provider's own adapter (the URL, credentials and connect timeout it
would use for a run), with a 20 s read limit, no redirects and at most 2 MB of answer. A provider
without credentials is never asked: its answer is the fallback list, with no network call.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable
from typing import Any

import httpx

from agentstage.runtime.config import Config
from agentstage.runtime.errors import AgentstageError, InvalidArgument
from agentstage.runtime.llm._http import scrub, vendor_message
from agentstage.runtime.llm.factory import PROVIDERS, resolve_provider_name

__all__ = ["FALLBACK_MODELS", "MAX_LISTING", "list_models"]

FALLBACK_MODELS: dict[str, tuple[str, ...]] = {
    "openai": ("gpt-4o-mini", "gpt-4.1-mini", "gpt-4.1", "o3-mini"),
    "anthropic": ("claude-3-5-haiku-latest", "claude-3-5-sonnet-latest", "claude-3-7-sonnet-latest"),
    "azure": ("gpt-4o-mini", "gpt-4.1-mini", "gpt-4.1"),
    "ollama": ("llama3.1", "qwen2.5", "mistral"),
    "gemini": ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash"),
    "scripted": ("scripted",),
}
"""The reference DevUI's fallback lists (plus the offline provider's name)."""

MAX_LISTING = 2 * 1024 * 1024
"""Bytes of a model listing read at most."""

_ALIASES = {"azureopenai": "azure"}
_READ_TIMEOUT = 20.0


def _configured(config: Config, provider: str) -> bool:
    env = config.env
    if provider == "openai":
        return bool(env.get("OPENAI_API_KEY", "").strip() or env.get("OPENAI_BASE_URL", "").strip())
    if provider == "gemini":
        return bool(env.get("GEMINI_API_KEY", "").strip())
    if provider == "ollama":
        return bool(env.get("OLLAMA_HOST", "").strip()) or config.provider == "ollama"
    return False


def _ids(provider: str, payload: Any) -> list[str]:
    """Model names in a listing; ValueError when it has not the vendor's shape."""
    if not isinstance(payload, dict):
        raise ValueError("the listing is not a JSON object")
    items = payload.get("data" if provider == "openai" else "models")
    if not isinstance(items, list):
        raise ValueError(f"the listing has no {'data' if provider == 'openai' else 'models'} list")
    key = "id" if provider == "openai" else "name"
    names = [str(item.get(key, "")).strip() for item in items if isinstance(item, dict)]
    return [name.removeprefix("models/") for name in names if name]


def _fetch(provider: Any, name: str, client: httpx.Client) -> list[str]:
    url, headers = provider.model_listing()
    with client.stream("GET", url, headers=headers) as response:
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_LISTING:
                raise ValueError(f"the listing is larger than {MAX_LISTING} bytes")
        if response.status_code >= 300:
            whole = httpx.Response(response.status_code, headers=response.headers, content=bytes(body))
            raise ValueError(f"{name} HTTP {response.status_code}: {vendor_message(whole)}")
    try:
        return _ids(name, json.loads(bytes(body)))
    except UnicodeDecodeError as exc:
        raise ValueError(f"the listing is not JSON: {exc}") from None


def _sorted(models: Iterable[str]) -> list[str]:
    return sorted({m.strip() for m in models if m and m.strip()})


def list_models(config: Config, provider: str | None = None) -> dict[str, Any]:
    """`{provider, modelKey, current, models, source, error?}` for `provider` (default: the configured one).

    `source` is `api` when the provider's server answered, else `fallback` (with `error` saying why, when
    the server was asked). The current model (AGENTSTAGE_MODEL, else the adapter's default) is always
    listed. Raises InvalidArgument naming `provider` for an unknown name.
    """
    requested = (provider or "").strip().lower()
    name = _ALIASES.get(requested, requested) if requested else resolve_provider_name(config)
    if name not in PROVIDERS:
        raise InvalidArgument("provider", f"unknown provider {requested!r}; choose one of "
                                          f"{', '.join(sorted({*PROVIDERS, *_ALIASES}))}")
    answer: dict[str, Any] = {"provider": name, "modelKey": "AGENTSTAGE_MODEL", "source": "fallback"}
    models: list[str] = list(FALLBACK_MODELS.get(name, ()))
    adapter = None
    if _configured(config, name):
        try:
            adapter = PROVIDERS[name](config)
        except AgentstageError as exc:
            answer["error"] = str(exc)
    if adapter is not None:
        timeout = httpx.Timeout(min(config.llm_timeout, _READ_TIMEOUT), connect=config.llm_connect_timeout)
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False) as http:
                models, answer["source"] = _fetch(adapter, name, http), "api"
        except (httpx.HTTPError, ValueError) as exc:
            answer["error"] = scrub(str(exc) or type(exc).__name__, adapter.secrets)
    current = _current(config, name)
    answer["current"] = current
    answer["models"] = _sorted([*models, current])
    return answer


def _current(config: Config, name: str) -> str:
    """The model a run of `name` would use: AGENTSTAGE_MODEL, else the deployment (Azure) or the adapter's default."""
    if config.model:
        return config.model
    if name == "azure":
        return config.env.get("AZURE_OPENAI_DEPLOYMENT", "").strip()
    if name == "scripted":
        return "scripted"
    return str(importlib.import_module(f"agentstage.runtime.llm.{name}").DEFAULT_MODEL)
