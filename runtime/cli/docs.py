"""`agentstage docs add|search|list|remove`: document collections for retrieval (search_documents, DocumentContext)."""

from __future__ import annotations

import argparse
from pathlib import Path

from agentstage.runtime.cli.common import ExitCode, add_config_flags, config_from_args, emit_json, fail

__all__ = ["register"]

_TEXT_SUFFIXES = {".md", ".txt", ".rst", ".adoc", ".html", ".json", ".yaml", ".yml", ".toml", ".py", ".csv", ".log"}


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser("docs", help="document collections for retrieval: add files, search, list, remove",
                              description="Document collections the search_documents tool and the context "
                                          "middleware read (AGENTSTAGE_DOCS_DB, AGENTSTAGE_EMBEDDER).")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="chunk, embed and store text files (a file added again is replaced)",
                             epilog="example: agentstage docs add handbook ./docs README.md")
    add_config_flags(add)
    add.add_argument("collection", help="collection name (created on first add)")
    add.add_argument("paths", nargs="+", help="text files, or directories searched for text files")
    add.add_argument("--chunk-size", type=int, default=800, help="characters per chunk")
    add.set_defaults(handler=add_documents)
    search = actions.add_parser("search", help="the passages of a collection closest to a query",
                                epilog='example: agentstage docs search handbook "how are workers started?"')
    add_config_flags(search)
    search.add_argument("collection")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=4, help="passages to show")
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(handler=search_documents)
    listing = actions.add_parser("list", help="collections with their embedder and sizes")
    add_config_flags(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=list_collections)
    remove = actions.add_parser("remove", help="delete a collection")
    add_config_flags(remove)
    remove.add_argument("collection")
    remove.set_defaults(handler=remove_collection)


def _files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _TEXT_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(name)
    return found


def add_documents(args: argparse.Namespace) -> int:
    from agentstage.runtime.retrieval import Retrieval

    try:
        files = _files(args.paths)
    except FileNotFoundError as exc:
        return fail(f"no such file or directory: {exc.args[0]}", ExitCode.USAGE)
    retrieval = Retrieval.from_config(config_from_args(args))
    try:
        total = 0
        for path in files:
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError) as exc:
                print(f"skipped {path}: {getattr(exc, 'strerror', None) or 'not UTF-8 text'}")
                continue
            count = retrieval.store().add(args.collection, str(path), text, retrieval.embedder(),
                                          chunk_size=args.chunk_size)
            total += count
            print(f"added {path}: {count} chunks")
    except ValueError as exc:
        return fail(str(exc), ExitCode.USAGE)
    except RuntimeError as exc:
        return fail(str(exc), ExitCode.RUN_FAILED)
    finally:
        retrieval.close()
    print(f"{args.collection}: {total} chunks from {len(files)} files")
    return ExitCode.OK


def search_documents(args: argparse.Namespace) -> int:
    from agentstage.runtime.retrieval import Retrieval

    retrieval = Retrieval.from_config(config_from_args(args))
    try:
        hits = retrieval.search(args.collection, args.query, args.k)
    except ValueError as exc:
        return fail(str(exc), ExitCode.USAGE)
    finally:
        retrieval.close()
    if args.json:
        emit_json([{"text": h.text, "source": h.source, "position": h.position, "score": h.score} for h in hits])
    else:
        for hit in hits:
            text = " ".join(hit.text.split())
            print(f"{hit.score:.3f}  {hit.source}#{hit.position}  {text[:160]}")
    return ExitCode.OK


def list_collections(args: argparse.Namespace) -> int:
    from agentstage.runtime.retrieval import Retrieval

    retrieval = Retrieval.from_config(config_from_args(args))
    try:
        rows = retrieval.store().collections()
    finally:
        retrieval.close()
    if args.json:
        emit_json(rows)
    else:
        for row in rows:
            print(f"{row['name']:<20} {row['chunks']:>7} chunks {row['sources']:>5} sources  {row['embedder']}")
    return ExitCode.OK


def remove_collection(args: argparse.Namespace) -> int:
    from agentstage.runtime.retrieval import Retrieval

    retrieval = Retrieval.from_config(config_from_args(args))
    try:
        retrieval.store().remove(args.collection)
    finally:
        retrieval.close()
    print(f"removed {args.collection}")
    return ExitCode.OK
