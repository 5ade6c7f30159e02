"""file_system, tmpdir, log_viewer: confined to the sandbox, limits enforced."""

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


def test_log_viewer_tail_head_grep(tools) -> None:
    fs(tools, "write", path="app.log", content="".join(f"line {i} {'ERROR' if i % 3 == 0 else 'ok'}\n"
                                                       for i in range(1, 11)))
    logs = tools.get("log_viewer")
    assert logs({"operation": "tail", "path": "app.log", "lines": 2})["lines"] == ["line 9 ERROR", "line 10 ok"]
    assert logs({"operation": "head", "path": "app.log", "lines": 1})["lines"] == ["line 1 ok"]
    assert [m["line"] for m in logs({"operation": "grep", "path": "app.log", "pattern": "ERROR"})["matches"]] == [3, 6, 9]


def test_log_viewer_and_file_system_refuse_symlinks_out_of_the_sandbox(tools, context, tmp_path) -> None:
    (tmp_path / "host.log").write_text("root password hunter2\n")
    context.sandbox.mkdir(parents=True, exist_ok=True)
    (context.sandbox / "app.log").symlink_to(tmp_path / "host.log")
    for operation in ("tail", "head", "grep"):
        with pytest.raises(ToolError, match="outside the tool sandbox"):
            tools.get("log_viewer")({"operation": operation, "path": "app.log", "pattern": "password"})
    listed = fs(tools, "list", path=".")["entries"]
    assert listed == [{"name": "app.log", "type": "symlink", "size": None}]
    assert fs(tools, "search", pattern="*.log")["matches"] == []


def test_file_system_copy_of_a_tree_with_a_link_out_is_refused(tools, context, tmp_path) -> None:
    (tmp_path / "secret.txt").write_text("s3cret")
    fs(tools, "write", path="tree/a.txt", content="a")
    (context.sandbox / "tree" / "leak").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(ToolError, match="leading outside"):
        fs(tools, "copy", path="tree", destination="copy")
    assert not (context.sandbox / "copy").exists()


def test_log_viewer_reads_a_bounded_window_of_a_large_log(tools, context, monkeypatch) -> None:
    from agentstage.runtime.tools import files
    monkeypatch.setattr(files, "MAX_LOG", 100)
    fs(tools, "write", path="big.log", content="".join(f"line {i:04d}\n" for i in range(100)))
    tail = tools.get("log_viewer")({"operation": "tail", "path": "big.log", "lines": 1000})
    assert tail["truncated"] and tail["lines"][-1] == "line 0099" and len(tail["lines"]) < 11
    head = tools.get("log_viewer")({"operation": "head", "path": "big.log", "lines": 1000})
    assert head["truncated"] and head["lines"][0] == "line 0000" and len(head["lines"]) < 11
