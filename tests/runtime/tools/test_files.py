"""file_system, tmpdir, archive, log_viewer: confined to the sandbox, limits enforced."""

import io
import tarfile

import pytest

from agentstage.runtime.errors import ToolError


def fs(tools, operation, **arguments):
    return tools.get("file_system")({"operation": operation, **arguments})


def test_file_system_round_trip(tools, context) -> None:
    fs(tools, "write", path="notes/a.txt", content="one\ntwo\nthree\n")
    fs(tools, "append", path="notes/a.txt", content="four\n")
    assert fs(tools, "read", path="notes/a.txt")["content"] == "one\ntwo\nthree\nfour\n"
    assert fs(tools, "head", path="notes/a.txt", lines=1)["lines"] == ["one"]
    assert fs(tools, "tail", path="notes/a.txt", lines=2)["lines"] == ["three", "four"]
    assert fs(tools, "grep", path="notes/a.txt", pattern="^t")["matches"] == [
        {"line": 2, "text": "two"}, {"line": 3, "text": "three"}]
    fs(tools, "copy", path="notes/a.txt", destination="notes/b.txt")
    fs(tools, "rename", path="notes/b.txt", destination="notes/c.txt")
    assert fs(tools, "search", pattern="*.txt")["matches"] == ["notes/a.txt", "notes/c.txt"]
    assert [e["name"] for e in fs(tools, "list", path="notes")["entries"]] == ["a.txt", "c.txt"]
    assert fs(tools, "chmod", path="notes/a.txt", mode="600")["mode"] == "600"
    assert fs(tools, "info", path="notes/a.txt")["mode"] == "0o600"
    fs(tools, "symlink", path="notes/a.txt", destination="link.txt")
    assert fs(tools, "read", path="link.txt")["content"].startswith("one")
    with pytest.raises(ToolError, match="non-empty directory"):
        fs(tools, "delete", path="notes")
    assert fs(tools, "delete", path="notes", recursive=True)["deleted"]
    assert fs(tools, "exists", path="notes")["exists"] is False


def test_paths_outside_the_sandbox_and_blocked_paths_are_refused(tools, context, tmp_path) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    for path in ("../outside.txt", str(tmp_path / "outside.txt"), "/etc/passwd", "~/.ssh/id_rsa"):
        with pytest.raises(ToolError, match="outside the tool sandbox|blocked"):
            fs(tools, "read", path=path)
    context.sandbox.mkdir(parents=True, exist_ok=True)
    (context.sandbox / "escape").symlink_to(tmp_path)
    with pytest.raises(ToolError, match="outside the tool sandbox"):
        fs(tools, "read", path="escape/outside.txt")
    fs(tools, "write", path="x", content="")
    with pytest.raises(ToolError, match="never 777"):
        fs(tools, "chmod", path="x", mode="777")
    with pytest.raises(ToolError, match="sandbox root"):
        fs(tools, "delete", path=".")


def test_tmpdir_lifecycle(tools) -> None:
    tmp = tools.get("tmpdir")
    made = tmp({"operation": "create", "prefix": "job"})["dir"]
    tmp({"operation": "write_file", "dir": made, "name": "a.txt", "content": "hi"})
    assert tmp({"operation": "read_file", "dir": made, "name": "a.txt"})["content"] == "hi"
    assert tmp({"operation": "list", "dir": made})["files"] == ["a.txt"]
    with pytest.raises(ToolError, match="escapes|outside"):
        tmp({"operation": "write_file", "dir": made, "name": "../../x.txt", "content": "no"})
    tmp({"operation": "cleanup", "dir": made})
    assert made not in tmp({"operation": "list"})["dirs"]


@pytest.mark.parametrize("name", ["out.tar.gz", "out.zip", "out.tar.xz"])
def test_archive_create_list_extract(tools, name) -> None:
    fs(tools, "write", path="src/a.txt", content="alpha")
    fs(tools, "write", path="src/sub/b.txt", content="beta")
    archive = tools.get("archive")
    archive({"operation": "create", "archive": name, "sources": ["src"]})
    assert "src/sub/b.txt" in archive({"operation": "list", "archive": name})["files"]
    archive({"operation": "extract", "archive": name, "destination": "restored"})
    assert fs(tools, "read", path="restored/src/sub/b.txt")["content"] == "beta"


def test_archive_refuses_members_escaping_the_destination(tools, context) -> None:
    context.sandbox.mkdir(parents=True, exist_ok=True)
    with tarfile.open(context.sandbox / "evil.tar", "w") as out:
        data = b"x"
        info = tarfile.TarInfo("../../evil.txt")
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))
    with pytest.raises(ToolError, match="escape"):
        tools.get("archive")({"operation": "extract", "archive": "evil.tar", "destination": "d"})


def test_log_viewer_tail_head_grep(tools) -> None:
    fs(tools, "write", path="app.log", content="".join(f"line {i} {'ERROR' if i % 3 == 0 else 'ok'}\n"
                                                       for i in range(1, 11)))
    logs = tools.get("log_viewer")
    assert logs({"operation": "tail", "path": "app.log", "lines": 2})["lines"] == ["line 9 ERROR", "line 10 ok"]
    assert logs({"operation": "head", "path": "app.log", "lines": 1})["lines"] == ["line 1 ok"]
    assert [m["line"] for m in logs({"operation": "grep", "path": "app.log", "pattern": "ERROR"})["matches"]] == [3, 6, 9]
