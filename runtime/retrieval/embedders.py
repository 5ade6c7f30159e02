"""Embedders: text to vectors. `HashEmbedder` is offline and deterministic (the default, so retrieval
works with the scripted provider and in tests); the vendor embedders call each vendor's documented
embeddings endpoint (OpenAI-compatible `/embeddings`, Ollama `/api/embed`, Gemini `batchEmbedContents`)."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from typing import Any

from agentstage.runtime.errors import ConfigError

__all__ = ["Embedder", "GeminiEmbedder", "HashEmbedder", "OllamaEmbedder", "OpenAIEmbedder", "embedder_from"]

_WORD = re.compile(r"\w+")


class Embedder:
    """Turns texts into unit-length vectors of `dimensions` floats; `name` is stored with a collection."""

    name = "embedder"
    dimensions = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        raise NotImplementedError


class HashEmbedder(Embedder):
    """Feature hashing of words and word pairs (signed, L2-normalised): texts sharing words are close.

    No model and no network: good enough to find the passage that shares a question's terms, and
    exactly the same on every machine, so retrieval results can be tested.
    """

    def __init__(self, dimensions: int = 256) -> None:
        self.dimensions = dimensions
        self.name = f"hash-{dimensions}"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        words = [w.casefold() for w in _WORD.findall(text)]
        for feature in (*words, *(f"{a} {b}" for a, b in zip(words, words[1:]))):
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            slot = int.from_bytes(digest[:4], "little") % self.dimensions
            vector[slot] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]


class _HttpEmbedder(Embedder):
    """Shared HTTP handling: one client, errors as one line naming the vendor and status."""

    vendor = "embeddings"

    def __init__(self, base_url: str, model: str, dimensions: int, *, timeout: float = 60.0,
                 headers: dict[str, str] | None = None) -> None:
        import httpx  # NOTE: only vendor embedders need the HTTP stack; the offline CLI does not load it

        self.model = model
        self.dimensions = dimensions
        self.name = f"{self.vendor}:{model}"
        self.client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, headers=headers or {})

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        import httpx

        try:
            response = self.client.post(path, json=body)
        except httpx.HTTPError as exc:
            raise RuntimeError(f"{self.vendor} embeddings: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise RuntimeError(f"{self.vendor} embeddings: HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    def _checked(self, vectors: list[list[float]], count: int) -> list[list[float]]:
        if len(vectors) != count or any(len(v) != self.dimensions for v in vectors):
            raise RuntimeError(f"{self.vendor} embeddings: expected {count} vectors of {self.dimensions} floats")
        return [_unit(v) for v in vectors]


class OpenAIEmbedder(_HttpEmbedder):
    """POST {base}/embeddings {model, input: [...]} -> data[i].embedding (OpenAI, Azure-compatible, vLLM, llama.cpp)."""

    vendor = "openai"

    def __init__(self, base_url: str, model: str, dimensions: int, api_key: str = "", **options: Any) -> None:
        super().__init__(base_url, model, dimensions,
                         headers={"Authorization": f"Bearer {api_key}"} if api_key else None, **options)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        body = self._post("/embeddings", {"model": self.model, "input": list(texts)})
        data = sorted(body.get("data", []), key=lambda item: item.get("index", 0))
        return self._checked([item["embedding"] for item in data], len(texts))


class OllamaEmbedder(_HttpEmbedder):
    """POST {host}/api/embed {model, input: [...]} -> embeddings."""

    vendor = "ollama"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        body = self._post("/api/embed", {"model": self.model, "input": list(texts)})
        return self._checked(body.get("embeddings", []), len(texts))


class GeminiEmbedder(_HttpEmbedder):
    """POST {base}/models/{model}:batchEmbedContents {requests: [...]} -> embeddings[i].values."""

    vendor = "gemini"

    def __init__(self, base_url: str, model: str, dimensions: int, api_key: str = "", **options: Any) -> None:
        super().__init__(base_url, model, dimensions, headers={"x-goog-api-key": api_key} if api_key else None,
                         **options)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        requests = [{"model": f"models/{self.model}", "content": {"parts": [{"text": t}]}} for t in texts]
        body = self._post(f"/models/{self.model}:batchEmbedContents", {"requests": requests})
        return self._checked([item["values"] for item in body.get("embeddings", [])], len(texts))


_VENDORS = {"openai": (OpenAIEmbedder, "OPENAI_BASE_URL", "https://api.openai.com/v1", "OPENAI_API_KEY"),
            "ollama": (OllamaEmbedder, "OLLAMA_HOST", "http://127.0.0.1:11434", ""),
            "gemini": (GeminiEmbedder, "GEMINI_BASE_URL", "https://generativelanguage.googleapis.com/v1beta",
                       "GEMINI_API_KEY")}


def embedder_from(kind: str, model: str, dimensions: int, env: dict[str, str] | Any) -> Embedder:
    """The embedder a setting names (`hash`, `openai`, `ollama`, `gemini`); vendor URLs and keys from `env`."""
    if kind in ("", "hash"):
        return HashEmbedder(dimensions or 256)
    if kind not in _VENDORS:
        raise ConfigError("AGENTSTAGE_EMBEDDER", kind, "use hash, openai, ollama or gemini")
    if not model or not dimensions:
        raise ConfigError("AGENTSTAGE_EMBED_MODEL", model, f"the {kind} embedder needs a model and its dimensions "
                                                           "(AGENTSTAGE_EMBED_DIMENSIONS)")
    cls, url_var, default_url, key_var = _VENDORS[kind]
    options: dict[str, Any] = {"api_key": env.get(key_var, "")} if key_var else {}
    return cls(env.get(url_var) or default_url, model, dimensions, **options)


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [float(v) / norm for v in vector]
