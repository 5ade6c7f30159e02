"""Reading sandbox files for the API: the resolved path is opened without following links, so a link swapped
in after the check is refused; size and file-type limits hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentstage.runtime.tools import serving
from agentstage.runtime.tools.serving import FileRefused, read_sandbox_file


def test_reads_a_file_by_relative_or_absolute_path(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.txt").write_bytes(b"hello")
    for path in ("a/b.txt", str(tmp_path / "a" / "b.txt"), "a/../a/b.txt"):
        found = read_sandbox_file(tmp_path, path)
        assert (found.name, found.relative, found.data) == ("b.txt", "a/b.txt", b"hello")


def test_a_directory_swapped_for_a_link_after_the_check_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "a").mkdir(parents=True)
    outside.mkdir()
    (outside / "b.txt").write_text("secret")
    (root / "a").rmdir()
    (root / "a").symlink_to(outside)
    with pytest.raises(OSError):
        serving._open_beneath(root, ("a", "b.txt"))


@pytest.mark.parametrize(("limit", "kind"), [(4, "too_large"), (100, None)])
def test_the_size_limit(tmp_path: Path, limit: int, kind: str | None) -> None:
    (tmp_path / "f").write_bytes(b"12345")
    if kind is None:
        assert read_sandbox_file(tmp_path, "f", limit).data == b"12345"
        return
    with pytest.raises(FileRefused) as refused:
        read_sandbox_file(tmp_path, "f", limit)
    assert refused.value.kind == kind


def test_a_missing_sandbox_is_missing_not_created(tmp_path: Path) -> None:
    with pytest.raises(FileRefused) as refused:
        read_sandbox_file(tmp_path / "none", "f")
    assert refused.value.kind == "missing" and not (tmp_path / "none").exists()
