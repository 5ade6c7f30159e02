"""Splitting documents into chunks that fit an embedding: paragraphs packed up to a size, long ones cut
at sentence or word boundaries, with a small overlap so a passage cut in two is still found."""

from __future__ import annotations

import re

__all__ = ["chunk_text"]

_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def chunk_text(text: str, size: int = 800, overlap: int = 100) -> list[str]:
    """Chunks of at most `size` characters (a single word longer than that is cut), each after the first
    starting with up to `overlap` characters of the one before."""
    if size < 50 or not 0 <= overlap < size // 2:
        raise ValueError("chunk size must be at least 50 and overlap below half of it")
    pieces: list[str] = []
    for paragraph in (p.strip() for p in _PARAGRAPH.split(text)):
        if paragraph:
            pieces.extend(_fit(paragraph, size - overlap))
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + 2 + len(piece) > size - overlap:
            chunks.append(current)
            current = _tail(current, overlap) + piece if overlap else piece
        else:
            current = f"{current}\n\n{piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks


def _fit(paragraph: str, size: int) -> list[str]:
    """The paragraph as pieces of at most `size` characters: whole sentences, else whole words, else cut."""
    if len(paragraph) <= size:
        return [paragraph]
    out: list[str] = []
    for unit in _SENTENCE.split(paragraph):
        words = unit.split() if len(unit) > size else [unit]
        for word in words:
            while len(word) > size:
                out.append(word[:size])
                word = word[size:]
            if out and len(out[-1]) + 1 + len(word) <= size:
                out[-1] = f"{out[-1]} {word}"
            else:
                out.append(word)
    return out


def _tail(text: str, overlap: int) -> str:
    """The last `overlap` characters of `text`, starting at a word, followed by a space."""
    tail = text[-overlap:]
    cut = tail.find(" ")
    tail = tail[cut + 1:] if 0 <= cut < len(tail) - 1 else tail
    return tail + " "
