"""Chunking: bounded sizes, overlap between neighbours, nothing lost."""

from __future__ import annotations

import pytest

from agentstage.runtime.retrieval import chunk_text


def test_chunks_are_bounded_overlap_and_keep_every_word() -> None:
    text = "\n\n".join(f"Paragraph {i} says something about topic {i}. " * 6 for i in range(12))
    chunks = chunk_text(text, size=300, overlap=60)
    assert len(chunks) > 3 and all(len(c) <= 300 for c in chunks)
    for before, after in zip(chunks, chunks[1:]):
        assert after.split()[0] in before.split()[-12:], "each chunk starts with the end of the one before"
    assert set(text.split()) <= set(" ".join(chunks).split())


def test_a_word_longer_than_a_chunk_is_cut_and_short_text_is_one_chunk() -> None:
    assert chunk_text("short text") == ["short text"]
    cut = chunk_text("x" * 250, size=100, overlap=0)
    assert [len(c) for c in cut] == [100, 100, 50]
    assert chunk_text("") == []


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        chunk_text("x", size=10)
    with pytest.raises(ValueError):
        chunk_text("x", size=100, overlap=60)
