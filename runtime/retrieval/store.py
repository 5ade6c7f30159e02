"""Document collections in SQLite: chunk text in a table, vectors in a sqlite-vec `vec0` table per
collection, top-k by cosine distance in SQL. sqlite-vec is a loadable extension from PyPI (no server,
the vectors stay in the same file and transaction as their text); its KNN is a brute-force scan.

The file is the retrieval store's own (`AGENTSTAGE_DOCS_DB`), not the runtime's state file, so
ingesting a large corpus never holds the runtime's writer.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import apsw

from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import NotFound
from agentstage.runtime.retrieval.chunking import chunk_text
from agentstage.runtime.retrieval.embedders import Embedder

__all__ = ["DocStore", "Hit"]

_SCHEMA = """
CREATE TABLE collections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    embedder TEXT NOT NULL,
    dimensions INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,
    collection INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    UNIQUE (collection, source, position)
);
"""
_BATCH = 64


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved chunk: its text, where it came from, and its cosine similarity to the query."""

    text: str
    source: str
    position: int
    score: float


class DocStore:
    """Collections of embedded chunks in one SQLite file; safe to share between threads."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self._lock = threading.RLock()
        self.db = apsw.Connection(self.path)
        import sqlite_vec

        self.db.enable_load_extension(True)
        self.db.load_extension(sqlite_vec.loadable_path())
        self.db.enable_load_extension(False)
        self.db.set_busy_timeout(busy_timeout_ms)
        self.db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON")
        with self._lock, self.db:
            if self.db.execute("PRAGMA user_version").fetchall()[0][0] == 0:
                self.db.execute(_SCHEMA)
                self.db.execute("PRAGMA user_version = 1")

    def close(self) -> None:
        self.db.close()

    def collections(self) -> list[dict[str, object]]:
        """Each collection with its embedder, dimensions, chunk and source counts."""
        rows = self.db.execute(
            "SELECT c.name, c.embedder, c.dimensions, c.created_at, COUNT(k.id), COUNT(DISTINCT k.source)"
            " FROM collections c LEFT JOIN chunks k ON k.collection = c.id GROUP BY c.id ORDER BY c.name")
        return [{"name": n, "embedder": e, "dimensions": d, "created_at": t, "chunks": k, "sources": s}
                for n, e, d, t, k, s in rows]

    def add(self, collection: str, source: str, text: str, embedder: Embedder, *, chunk_size: int = 800,
            overlap: int = 100) -> int:
        """Chunk, embed and store `text` as `source` (replacing an earlier copy of it); returns the chunk count.

        Raises ValueError when the collection was made with another embedder.
        """
        chunks = chunk_text(text, chunk_size, overlap)
        vectors: list[list[float]] = []
        for start in range(0, len(chunks), _BATCH):
            vectors.extend(embedder.embed(chunks[start:start + _BATCH]))
        with self._lock, self.db:
            table = self._table(collection, embedder, create=True)
            self._delete_source(collection, source, table)
            cid = self._collection_id(collection)
            for position, (chunk, vector) in enumerate(zip(chunks, vectors)):
                self.db.execute("INSERT INTO chunks(collection, source, position, text) VALUES (?,?,?,?)",
                                (cid, source, position, chunk))
                self.db.execute(f"INSERT INTO {table}(rowid, embedding) VALUES (?, ?)",
                                (self.db.last_insert_rowid(), _pack(vector)))
        return len(chunks)

    def add_many(self, collection: str, documents: Iterable[tuple[str, str]], embedder: Embedder,
                 **options: int) -> int:
        """`add` for each (source, text); returns the total chunk count."""
        return sum(self.add(collection, source, text, embedder, **options) for source, text in documents)

    def search(self, collection: str, query: str, embedder: Embedder, k: int = 4) -> list[Hit]:
        """The `k` chunks closest to `query`, best first; NotFound for an unknown collection."""
        if not 1 <= k <= 100:
            raise ValueError("k must be between 1 and 100")
        with self._lock:
            table = self._table(collection, embedder, create=False)
        [vector] = embedder.embed([query])
        rows = self.db.execute(
            f"SELECT c.text, c.source, c.position, v.distance FROM"
            f" (SELECT rowid, distance FROM {table} WHERE embedding MATCH ? AND k = ?) v"
            " JOIN chunks c ON c.id = v.rowid ORDER BY v.distance", (_pack(vector), k))
        # NOTE: a query whose vector is all zeros (no token the embedder knows) has no cosine distance: score 0.
        return [Hit(text, source, position, round(1.0 - distance, 6) if distance is not None else 0.0)
                for text, source, position, distance in rows]

    def remove(self, collection: str) -> None:
        """Delete a collection and its chunks; NotFound when there is none."""
        with self._lock, self.db:
            cid = self._collection_id(collection)
            self.db.execute(f"DROP TABLE IF EXISTS vectors_{cid}")
            self.db.execute("DELETE FROM chunks WHERE collection = ?", (cid,))
            self.db.execute("DELETE FROM collections WHERE id = ?", (cid,))

    def _collection_id(self, collection: str) -> int:
        rows = self.db.execute("SELECT id FROM collections WHERE name = ?", (collection,)).fetchall()
        if not rows:
            raise NotFound("collection", collection)
        return int(rows[0][0])

    def _table(self, collection: str, embedder: Embedder, *, create: bool) -> str:
        rows = self.db.execute("SELECT id, embedder, dimensions FROM collections WHERE name = ?",
                               (collection,)).fetchall()
        if not rows:
            if not create:
                raise NotFound("collection", collection)
            self.db.execute("INSERT INTO collections(name, embedder, dimensions, created_at) VALUES (?,?,?,?)",
                            (collection, embedder.name, embedder.dimensions, utc_now()))
            cid = self.db.last_insert_rowid()
            self.db.execute(f"CREATE VIRTUAL TABLE vectors_{cid} USING vec0("
                            f"embedding float[{embedder.dimensions}] distance_metric=cosine)")
            return f"vectors_{cid}"
        cid, name, dimensions = rows[0]
        if name != embedder.name or dimensions != embedder.dimensions:
            raise ValueError(f"collection {collection!r} was embedded with {name} ({dimensions} dimensions), "
                             f"not {embedder.name} ({embedder.dimensions})")
        return f"vectors_{cid}"

    def _delete_source(self, collection: str, source: str, table: str) -> None:
        cid = self._collection_id(collection)
        ids = [row[0] for row in self.db.execute("SELECT id FROM chunks WHERE collection = ? AND source = ?",
                                                 (cid, source))]
        for chunk_id in ids:
            self.db.execute(f"DELETE FROM {table} WHERE rowid = ?", (chunk_id,))
        self.db.execute("DELETE FROM chunks WHERE collection = ? AND source = ?", (cid, source))


def _pack(vector: Sequence[float]) -> bytes:
    return struct.pack(f"{len(vector)}f", *vector)
