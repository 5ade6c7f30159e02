"""code_search, diff_generator (generate/apply/analyze), git_repo on local repositories."""

import subprocess

import pytest

from agentstage.runtime.errors import ToolError


def write(tools, path, content):
    tools.get("file_system")({"operation": "write", "path": path, "content": content})


def test_code_search_modes(tools) -> None:
    write(tools, "proj/a.py", "def handler(x):\n    return helper(x)\n\nclass Helper:\n    pass\n")
    search = tools.get("code_search")
    assert [m["line"] for m in search({"query": "helper", "path": "proj"})["matches"]] == [2]
    assert search({"query": "Helper", "path": "proj", "mode": "definition"})["matches"][0]["line"] == 4
    assert search({"query": r"def \w+", "mode": "regex", "context_lines": 1})["matches"][0]["context"] == [
        "def handler(x):", "    return helper(x)"]
    with pytest.raises(ToolError, match="invalid pattern"):
        search({"query": "(", "mode": "regex"})


def test_diff_generate_apply_analyze_round_trip(tools) -> None:
    diff = tools.get("diff_generator")
    original, modified = "a\nb\nc\nd\n", "a\nB\nc\nd\ne\n"
    generated = diff({"operation": "generate", "original": original, "modified": modified})["diff"]
    assert diff({"operation": "apply", "original": original, "diff": generated})["result"] == modified
    assert diff({"operation": "analyze", "diff": generated}) == {"files": ["b"], "hunks": 1, "additions": 2,
                                                                "deletions": 1}
    with pytest.raises(ToolError, match="cannot apply"):
        diff({"operation": "apply", "original": "x\ny\n", "diff": generated})


def test_git_repo_clone_and_read(tools, context) -> None:
    write(tools, "origin/README.md", "hello\n")
    repo = context.sandbox / "origin"
    for argv in (["init", "-q", "-b", "main"], ["add", "."], ["-c", "user.email=a@b", "-c", "user.name=a", "commit",
                                                               "-qm", "first"], ["tag", "v1"]):
        subprocess.run(["git", *argv], cwd=repo, check=True)
    git = tools.get("git_repo")
    cloned = git({"operation": "clone", "url": "origin", "path": "copy"})
    assert len(cloned["commit"]) == 40
    assert git({"operation": "list_files", "path": "copy"})["files"] == ["README.md"]
    assert git({"operation": "read_file", "path": "copy", "file": "README.md"})["content"] == "hello\n"
    info = git({"operation": "get_info", "path": "copy"})
    assert (info["branch"], info["tags"], info["commits"]) == ("main", ["v1"], 1)
    with pytest.raises(ToolError, match="only local repositories"):
        git({"operation": "clone", "url": "https://example.com/r.git", "path": "remote"})
    with pytest.raises(ToolError, match="not a git repository"):
        git({"operation": "get_info", "path": "."})


def git_commit(repo, *extra):
    for argv in (["init", "-q", "-b", "main"], *extra, ["add", "-A"],
                 ["-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "first"]):
        subprocess.run(["git", *argv], cwd=repo, check=True, capture_output=True)


def test_code_search_does_not_follow_links_out_of_the_sandbox(tools, context, tmp_path) -> None:
    (tmp_path / "host").mkdir()
    (tmp_path / "host" / "secret.py").write_text("API_TOKEN = 'hunter2'\n")
    write(tools, "proj/a.py", "token = None\n")
    (context.sandbox / "proj" / "linked.py").symlink_to(tmp_path / "host" / "secret.py")
    (context.sandbox / "proj" / "linked_dir").symlink_to(tmp_path / "host")
    found = tools.get("code_search")({"query": "token", "path": "proj", "mode": "regex"})["matches"]
    assert [m["file"] for m in found] == ["proj/a.py"]
    assert "hunter2" not in str(tools.get("code_search")({"query": "hunter2"}))


def test_code_search_regex_cannot_backtrack_for_ever(tools) -> None:
    write(tools, "proj/a.txt", "a" * 50_000 + "!\n")
    assert tools.get("code_search")({"query": r"(a+)+$", "mode": "regex"})["matches"] == []


def test_git_checkout_of_a_committed_symlink_does_not_lead_out(tools, context, tmp_path) -> None:
    (tmp_path / "secret.txt").write_text("s3cret")
    write(tools, "origin/README.md", "hello\n")
    (context.sandbox / "origin" / "leak").symlink_to(tmp_path / "secret.txt")
    git_commit(context.sandbox / "origin")
    (context.sandbox / "origin" / "leak").unlink()
    git = tools.get("git_repo")
    git({"operation": "clone", "url": "origin", "path": "copy"})
    assert not (context.sandbox / "copy" / "leak").is_symlink()
    assert "s3cret" not in git({"operation": "read_file", "path": "copy", "file": "leak"})["content"]


def test_git_refuses_repositories_whose_objects_or_gitdir_live_elsewhere(tools, context, tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.txt").write_text("private")
    git_commit(outside)
    write(tools, "pointer/.git", f"gitdir: {outside / '.git'}\n")
    git = tools.get("git_repo")
    with pytest.raises(ToolError, match="gitdir"):
        git({"operation": "list_files", "path": "pointer"})
    with pytest.raises(ToolError, match="gitdir"):
        git({"operation": "clone", "url": "pointer", "path": "stolen"})
    write(tools, "borrow/x.txt", "x")
    git_commit(context.sandbox / "borrow")
    write(tools, "borrow/.git/objects/info/alternates", str(outside / ".git" / "objects") + "\n")
    with pytest.raises(ToolError, match="borrows objects"):
        git({"operation": "clone", "url": "borrow", "path": "stolen"})
    (context.sandbox / "linked").mkdir()
    (context.sandbox / "linked" / ".git").symlink_to(outside / ".git")
    with pytest.raises(ToolError, match="link"):
        git({"operation": "get_info", "path": "linked"})


def test_git_config_in_the_sandbox_cannot_run_programs(tools, context, tmp_path) -> None:
    marker = tmp_path / "ran"
    write(tools, "repo/a.txt", "a")
    git_commit(context.sandbox / "repo")
    with open(context.sandbox / "repo" / ".git" / "config", "a") as config:
        config.write(f"[core]\n\tfsmonitor = touch {marker}\n\thooksPath = {tmp_path}\n")
    (tmp_path / "post-checkout").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (tmp_path / "post-checkout").chmod(0o755)
    git = tools.get("git_repo")
    assert git({"operation": "list_files", "path": "repo"})["files"] == ["a.txt"]
    git({"operation": "get_info", "path": "repo"})
    git({"operation": "clone", "url": "repo", "path": "copy"})
    assert not marker.exists()
    with open(context.sandbox / "repo" / ".git" / "config", "a") as config:
        config.write("[include]\n\tpath = /etc/hostname\n")
    with pytest.raises(ToolError, match="config includes"):
        git({"operation": "list_files", "path": "repo"})
