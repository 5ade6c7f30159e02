"""Embedders: the offline one is deterministic; vendor ones speak each documented wire format, driven
through real httpx against a local server."""

from __future__ import annotations

import json
import math

import pytest

from agentstage.runtime.errors import ConfigError
from agentstage.runtime.retrieval import GeminiEmbedder, HashEmbedder, OllamaEmbedder, OpenAIEmbedder, embedder_from
from tests.local_http import LocalHTTP


def test_hash_embedder_is_deterministic_unit_length_and_word_sensitive() -> None:
    embedder = HashEmbedder()
    first, again, other = embedder.embed(["Redis streams carry tasks", "Redis streams carry tasks", "pears"])
    assert first == again and len(first) == 256
    assert math.isclose(sum(v * v for v in first), 1.0)
    assert sum(a * b for a, b in zip(first, other)) < 0.5


def test_openai_compatible_embeddings() -> None:
    with LocalHTTP() as http:
        http.routes["/v1/embeddings"] = (200, {"data": [{"index": 1, "embedding": [0.0, 2.0]},
                                                        {"index": 0, "embedding": [3.0, 4.0]}]})
        vectors = OpenAIEmbedder(f"{http.url}/v1", "text-embedding-3-small", 2, api_key="sk-test").embed(["a", "b"])
        request = http.requests[0]
    assert vectors == [[0.6, 0.8], [0.0, 1.0]]
    assert json.loads(request["body"]) == {"model": "text-embedding-3-small", "input": ["a", "b"]}
    assert request["headers"]["Authorization"] == "Bearer sk-test"


def test_ollama_and_gemini_embeddings() -> None:
    with LocalHTTP() as http:
        http.routes["/api/embed"] = (200, {"embeddings": [[1.0, 0.0]]})
        http.routes["/v1beta/models/text-embedding-004:batchEmbedContents"] = (200, {"embeddings": [{"values": [0.0, 5.0]}]})
        assert OllamaEmbedder(http.url, "nomic-embed-text", 2).embed(["a"]) == [[1.0, 0.0]]
        gemini = GeminiEmbedder(f"{http.url}/v1beta", "text-embedding-004", 2, api_key="g-key")
        assert gemini.embed(["b"]) == [[0.0, 1.0]]
        ollama_body, gemini_request = json.loads(http.requests[0]["body"]), http.requests[1]
    assert ollama_body == {"model": "nomic-embed-text", "input": ["a"]}
    assert json.loads(gemini_request["body"]) == {"requests": [
        {"model": "models/text-embedding-004", "content": {"parts": [{"text": "b"}]}}]}
    assert gemini_request["headers"]["x-goog-api-key"] == "g-key"


def test_vendor_errors_and_wrong_sizes_are_one_line() -> None:
    with LocalHTTP() as http:
        http.routes["/api/embed"] = (500, {"error": "model not loaded"})
        with pytest.raises(RuntimeError, match=r"^ollama embeddings: HTTP 500: .*model not loaded"):
            OllamaEmbedder(http.url, "m", 2).embed(["a"])
        http.routes["/api/embed"] = (200, {"embeddings": [[1.0, 0.0, 0.0]]})
        with pytest.raises(RuntimeError, match="expected 1 vectors of 2 floats"):
            OllamaEmbedder(http.url, "m", 2).embed(["a"])


def test_settings_name_the_embedder() -> None:
    assert embedder_from("hash", "", 0, {}).name == "hash-256"
    assert embedder_from("openai", "m", 8, {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}).name == "openai:m"
    with pytest.raises(ConfigError, match="AGENTSTAGE_EMBEDDER"):
        embedder_from("word2vec", "", 0, {})
    with pytest.raises(ConfigError, match="needs a model and its dimensions"):
        embedder_from("ollama", "", 0, {})
