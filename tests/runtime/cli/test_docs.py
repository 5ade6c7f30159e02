"""`agentstage docs`, in real subprocesses: add a folder, search it, list, remove; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.runtime.cli.test_main import cli


def test_add_search_list_remove(tmp_path: Path) -> None:
    folder = tmp_path / "handbook"
    folder.mkdir()
    (folder / "workers.md").write_text("Workers claim tasks from Redis Streams and acknowledge them.")
    (folder / "page.md").write_text("The web page shows a live timeline of events.")
    (folder / "image.png").write_bytes(b"\x89PNG")
    added = cli(tmp_path, "docs", "add", "kb", str(folder))
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[-1] == "kb: 2 chunks from 2 files"
    found = json.loads(cli(tmp_path, "docs", "search", "kb", "how do workers claim tasks", "-k", "1", "--json").stdout)
    assert [h["source"] for h in found] == [str(folder / "workers.md")]
    listed = json.loads(cli(tmp_path, "docs", "list", "--json").stdout)
    assert [(c["name"], c["chunks"], c["embedder"]) for c in listed] == [("kb", 2, "hash-256")]
    assert cli(tmp_path, "docs", "remove", "kb").returncode == 0
    assert json.loads(cli(tmp_path, "docs", "list", "--json").stdout) == []


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for args, message in ((("docs", "search", "nope", "x"), "unknown collection: nope"),
                          (("docs", "add", "kb", "missing.md"), "no such file or directory: missing.md"),
                          (("docs", "search", "kb", "x", "-k", "0"), "k must be between 1 and 100")):
        if args[1] == "search" and args[2] == "kb":
            (tmp_path / "a.md").write_text("text")
            cli(tmp_path, "docs", "add", "kb", str(tmp_path / "a.md"))
        done = cli(tmp_path, *args)
        assert done.returncode == 2 and done.stderr.strip() == f"agentstage: {message}", done.stderr
