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
