"""Retrieval: embedders, document collections in SQLite (sqlite-vec) and a context-injection middleware
(the `search_documents` tool is in `runtime.tools.documents`)."""

from agentstage.runtime.retrieval.chunking import chunk_text
from agentstage.runtime.retrieval.context import DocumentContext, Retrieval
from agentstage.runtime.retrieval.embedders import (
    Embedder,
    GeminiEmbedder,
    HashEmbedder,
    OllamaEmbedder,
    OpenAIEmbedder,
    embedder_from,
)
from agentstage.runtime.retrieval.store import DocStore, Hit

__all__ = ["DocStore", "DocumentContext", "Embedder", "GeminiEmbedder", "HashEmbedder", "Hit", "OllamaEmbedder",
           "OpenAIEmbedder", "Retrieval", "chunk_text", "embedder_from"]
