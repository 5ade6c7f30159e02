"""Retrieval: embedders, document collections in SQLite (sqlite-vec) and a context-injection middleware
(the `search_documents` tool is in `runtime.tools.documents`)."""

from agentstage.runtime.lazy import lazy_exports as _lazy_exports

__getattr__ = _lazy_exports(__name__, {
    "chunk_text": "agentstage.runtime.retrieval.chunking",
    "DocumentContext": "agentstage.runtime.retrieval.context",
    "Retrieval": "agentstage.runtime.retrieval.context",
    "Embedder": "agentstage.runtime.retrieval.embedders",
    "GeminiEmbedder": "agentstage.runtime.retrieval.embedders",
    "HashEmbedder": "agentstage.runtime.retrieval.embedders",
    "OllamaEmbedder": "agentstage.runtime.retrieval.embedders",
    "OpenAIEmbedder": "agentstage.runtime.retrieval.embedders",
    "embedder_from": "agentstage.runtime.retrieval.embedders",
    "DocStore": "agentstage.runtime.retrieval.store",
    "Hit": "agentstage.runtime.retrieval.store",
})

__all__ = ["DocStore", "DocumentContext", "Embedder", "GeminiEmbedder", "HashEmbedder", "Hit", "OllamaEmbedder",
           "OpenAIEmbedder", "Retrieval", "chunk_text", "embedder_from"]
