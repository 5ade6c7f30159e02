"""Document collections on a real SQLite file with sqlite-vec: the known top-k on a fixed corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentstage.runtime.errors import NotFound
from agentstage.runtime.retrieval import DocStore, HashEmbedder

CORPUS = {
    "coordinator.md": "The coordinator admits runs and records every attempt in SQLite.",
    "workers.md": "Workers claim tasks from Redis Streams with consumer groups and acknowledge them.",
    "guardrails.md": "Guardrails redact secrets and block prompt injection before tools run.",
    "page.md": "The web page shows a live timeline of events for each run.",
    "graphs.md": "Graph runs checkpoint their state after every node, so a crashed run resumes.",
}


@pytest.fixture
def store(tmp_path: Path):
    docs = DocStore(tmp_path / "docs.db")
    yield docs
    docs.close()


@pytest.mark.parametrize(("query", "best"), [
    ("how do workers claim tasks?", "workers.md"),
    ("which guardrails redact secrets", "guardrails.md"),
    ("does a crashed graph run resume from its checkpoint", "graphs.md"),
    ("where does the coordinator record attempts", "coordinator.md"),
    ("timeline of events on the web page", "page.md"),
])
def test_the_passage_sharing_the_question_terms_comes_first(store: DocStore, query: str, best: str) -> None:
    embedder = HashEmbedder()
    assert store.add_many("kb", CORPUS.items(), embedder) == 5
    hits = store.search("kb", query, embedder, k=3)
    assert hits[0].source == best and hits[0].text == CORPUS[best]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_adding_a_source_again_replaces_its_chunks(store: DocStore) -> None:
    embedder = HashEmbedder()
    store.add("kb", "a.md", "old text about apples", embedder)
    store.add("kb", "a.md", "new text about pears", embedder)
    [listed] = store.collections()
    assert (listed["chunks"], listed["sources"], listed["embedder"]) == (1, 1, "hash-256")
    assert store.search("kb", "apples", embedder, k=5)[0].text == "new text about pears"


def test_a_collection_keeps_its_embedder_and_unknown_ones_are_not_found(store: DocStore) -> None:
    store.add("kb", "a.md", "text", HashEmbedder())
    with pytest.raises(ValueError, match="embedded with hash-256 .256 dimensions., not hash-64 .64."):
        store.add("kb", "b.md", "more", HashEmbedder(64))
    with pytest.raises(NotFound):
        store.search("nope", "text", HashEmbedder())
    store.remove("kb")
    assert store.collections() == []
    with pytest.raises(ValueError, match="k must be between 1 and 100"):
        store.search("kb", "x", HashEmbedder(), k=0)


def test_collections_survive_reopening_the_file(tmp_path: Path) -> None:
    first = DocStore(tmp_path / "docs.db")
    first.add_many("kb", CORPUS.items(), HashEmbedder())
    first.close()
    again = DocStore(tmp_path / "docs.db")
    try:
        assert again.search("kb", "workers claim tasks", HashEmbedder(), k=1)[0].source == "workers.md"
    finally:
        again.close()
