"""Retrieval as the runtime sees it: where the collections live and which embedder reads them, from
`Config`, with the store opened on first use; and the middleware that puts the top passages for the
user's question in front of the model."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentstage.runtime.llm.types import LLMRequest
from agentstage.runtime.middleware import Middleware, RunContext
from agentstage.runtime.retrieval.embedders import Embedder, embedder_from
from agentstage.runtime.retrieval.store import DocStore, Hit

__all__ = ["DocumentContext", "Retrieval"]


@dataclass
class Retrieval:
    """The document store file and the embedder setting; `store()` opens the file once, on first use."""

    path: Path
    embedder_kind: str = "hash"
    model: str = ""
    dimensions: int = 0
    env: Any = field(default_factory=dict, repr=False)
    _store: DocStore | None = field(default=None, repr=False)
    _embedder: Embedder | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_config(cls, config: Any) -> Retrieval:
        path = Path(config.docs_db) if config.docs_db else Path(config.home) / "docs.db"
        return cls(path, config.embedder, config.embed_model, config.embed_dimensions, config.env)

    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = embedder_from(self.embedder_kind, self.model, self.dimensions, self.env)
            return self._embedder

    def store(self) -> DocStore:
        with self._lock:
            if self._store is None:
                self._store = DocStore(self.path)
            return self._store

    def search(self, collection: str, query: str, k: int = 4) -> list[Hit]:
        return self.store().search(collection, query, self.embedder(), k)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


class DocumentContext(Middleware):
    """Before the first model call of a run, retrieve the `k` passages closest to the user's message
    from `collection` and put them in front of the system prompt, numbered with their sources.

    A `retrieval.context` event names the sources and scores; a failed lookup is a `retrieval.error`
    event and the run goes on without context.
    """

    def __init__(self, retrieval: Retrieval, collection: str, k: int = 3, heading: str = "Relevant context:") -> None:
        self.retrieval = retrieval
        self.collection = collection
        self.k = k
        self.heading = heading

    def before_generate(self, ctx: RunContext, request: LLMRequest) -> LLMRequest | None:
        if ctx.iteration != 1:
            return None
        question = next((m.content for m in reversed(request.messages) if m.role == "user" and m.content), "")
        if not question:
            return None
        try:
            hits = self.retrieval.search(self.collection, question, self.k)
        except Exception as exc:  # NOTE: a missing collection or an embedder outage must not fail the run
            _emit(ctx, "retrieval.error", {"collection": self.collection, "error": f"{type(exc).__name__}: {exc}"})
            return None
        _emit(ctx, "retrieval.context", {"collection": self.collection,
                                         "hits": [{"source": h.source, "position": h.position, "score": h.score}
                                                  for h in hits]})
        if not hits:
            return None
        block = "\n\n".join(f"[{i}] ({h.source}, score {h.score:.2f})\n{h.text}" for i, h in enumerate(hits, 1))
        system = f"{self.heading}\n{block}" + (f"\n\n{request.system}" if request.system else "")
        return dataclasses.replace(request, system=system)


def _emit(ctx: RunContext, type: str, data: dict[str, Any]) -> None:
    if ctx.emit is not None:
        ctx.emit(type, data=data)
