"""Retrieval at scale: ingest N chunks (offline hash embedder) into a collection, then time top-k queries.

Prints `name: value unit` lines: ingest chunks/s, query p50/p99 and queries/s, at --chunks (default
100,000) short synthetic passages of 256 dimensions. sqlite-vec's KNN is a scan, so query time grows
with the collection; the figure says where one file stops being enough.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from agentstage.runtime.retrieval import DocStore, HashEmbedder

WORDS = [f"w{i}" for i in range(5000)]


def passages(count: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(f"doc{i}", " ".join(rng.choices(WORDS, k=24))) for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    embedder = HashEmbedder()
    corpus = passages(args.chunks)
    with tempfile.TemporaryDirectory() as home:
        store = DocStore(Path(home) / "docs.db")
        started = time.perf_counter()
        store.add_many("bench", corpus, embedder)
        ingest = time.perf_counter() - started
        rng = random.Random(11)
        latencies = []
        for _ in range(args.queries):
            query = " ".join(rng.choices(WORDS, k=6))
            began = time.perf_counter()
            store.search("bench", query, embedder, k=args.k)
            latencies.append(time.perf_counter() - began)
        store.close()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"ingest: {args.chunks / ingest:.0f} chunks/s ({args.chunks} chunks in {ingest:.1f} s)")
    print(f"query_p50: {statistics.median(latencies) * 1000:.1f} ms (k={args.k}, {args.chunks} chunks)")
    print(f"query_p99: {p99 * 1000:.1f} ms")
    print(f"queries_per_s: {len(latencies) / sum(latencies):.1f}")


if __name__ == "__main__":
    main()
