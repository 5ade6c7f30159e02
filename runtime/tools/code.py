"""Code tools confined to the sandbox: code_search, diff_generator, git_repo (local repositories)."""

from __future__ import annotations

import difflib
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools._kit import obj, op_tool, require
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.limits import bounded
from agentstage.runtime.tools.paths import inside, sandbox_files, sandbox_path
from agentstage.runtime.tools.patterns import MAX_PATTERN, compile_pattern
from agentstage.runtime.tools.registry import Tool

__all__ = ["apply_unified_diff", "code_tools"]

_MAX_FILE = 100 * 1024
_MAX_TOTAL = 1024 * 1024
_MAX_HITS = 500
_MAX_SCAN = 64 * 1024 * 1024
_MAX_DIFF_INPUT = 256 * 1024
_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv"}
_DEFINITION = r"^\s*(?:def|class|func|function|fn|type|interface|struct|const|let|var)\s+{name}\b"


def _search(context: ToolContext) -> Any:
    def search(query: str, path: str = ".", mode: str = "text", context_lines: int = 0,
               file_pattern: str = "") -> dict[str, Any]:
        root = sandbox_path(context, "code_search", path, must_exist=True)
        import re2

        literal = re2.escape(bounded("code_search", "query", query, MAX_PATTERN))
        pattern = compile_pattern("code_search", {"regex": query, "symbol": rf"\b{literal}\b",
                                                  "definition": _DEFINITION.format(name=literal)}.get(mode, literal))
        hits: list[dict[str, Any]] = []
        total = 0
        for file in sandbox_files(context, "code_search", root, skip_dirs=_SKIP_DIRS):
            size = file.stat().st_size
            if (file_pattern and not file.match(file_pattern)) or size > _MAX_FILE:
                continue
            total += size
            if total > _MAX_SCAN:
                return {"matches": hits, "truncated": True}
            try:
                lines = file.read_text().splitlines()
            except (UnicodeDecodeError, OSError):
                continue
            for number, line in enumerate(lines, 1):
                if pattern.search(line):
                    low, high = max(number - 1 - context_lines, 0), number + context_lines
                    hits.append({"file": str(file.relative_to(context.sandbox)), "line": number, "text": line,
                                 **({"context": lines[low:high]} if context_lines else {})})
                    if len(hits) >= _MAX_HITS:
                        return {"matches": hits, "truncated": True}
        return {"matches": hits, "truncated": False}
    return search


def apply_unified_diff(original: str, diff: str) -> str:
    """Apply a unified diff to `original`; raises ValueError when a hunk does not match."""
    source = original.splitlines()
    out: list[str] = []
    position = 0
    lines = diff.splitlines()
    index = 0
    while index < len(lines):
        header = re.match(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@", lines[index])
        index += 1
        if not header:
            continue
        start = int(header.group(1)) - (0 if header.group(2) == "0" else 1)
        if start < position:
            raise ValueError("hunks overlap or are out of order")
        out.extend(source[position:start])
        position = start
        while index < len(lines) and not lines[index].startswith("@@"):
            line = lines[index]
            index += 1
            if line.startswith("\\"):
                continue
            tag, text = (line[:1], line[1:]) if line else (" ", "")
            if tag in (" ", "-"):
                if position >= len(source) or source[position] != text:
                    raise ValueError(f"hunk does not match line {position + 1}: {text!r}")
                position += 1
                if tag == " ":
                    out.append(text)
            elif tag == "+":
                out.append(text)
    out.extend(source[position:])
    return "\n".join(out) + ("\n" if original.endswith("\n") or not original else "")


def _diff(a: dict[str, Any]) -> dict[str, Any]:
    original = bounded("diff_generator", "original", a.get("original", ""), _MAX_DIFF_INPUT)
    modified = bounded("diff_generator", "modified", a.get("modified", ""), _MAX_DIFF_INPUT)
    diff = "".join(difflib.unified_diff(original.splitlines(True), modified.splitlines(True),
                                        a.get("from_name") or "a", a.get("to_name") or "b",
                                        n=int(a.get("context_lines", 3))))
    return {"diff": diff, "changed": bool(diff)}


def _apply(a: dict[str, Any]) -> dict[str, Any]:
    original = bounded("diff_generator", "original", a.get("original", ""))
    diff = bounded("diff_generator", "diff", require("diff_generator", a, "diff")[0])
    try:
        return {"result": apply_unified_diff(original, diff)}
    except ValueError as exc:
        raise ToolError("diff_generator", f"cannot apply diff: {exc}") from None


def _analyze(a: dict[str, Any]) -> dict[str, Any]:
    lines = bounded("diff_generator", "diff", require("diff_generator", a, "diff")[0]).splitlines()
    files = [line[4:].split("\t")[0] for line in lines if line.startswith("+++ ")]
    return {"files": files, "hunks": sum(line.startswith("@@") for line in lines),
            "additions": sum(line.startswith("+") and not line.startswith("+++") for line in lines),
            "deletions": sum(line.startswith("-") and not line.startswith("---") for line in lines)}


def _git_dir(context: ToolContext, path: Path) -> Path:
    """The git directory of the repository at `path` (work tree or bare), checked to stay in the sandbox.

    Refused: a `.git` file or link (gitdir elsewhere), links out of the sandbox inside the git
    directory, alternates or a common dir (objects read from elsewhere) and config includes.
    """
    dot = path / ".git"
    if dot.is_symlink() or dot.is_file():
        raise ToolError("git_repo", f"{path.name}/.git is a link or gitdir file; only plain repositories are used")
    git_dir = dot if dot.is_dir() else path if (path / "HEAD").is_file() and (path / "objects").is_dir() else None
    if git_dir is None:
        raise ToolError("git_repo", f"{path.name!r} is not a git repository")
    list(sandbox_files(context, "git_repo", git_dir, strict=True))
    if (git_dir / "commondir").exists() or (git_dir / "objects" / "info" / "alternates").exists():
        raise ToolError("git_repo", f"{path.name!r} borrows objects from another repository")
    config = git_dir / "config"
    if config.is_file() and re.search(r"(?im)^\s*\[\s*include", config.read_text(errors="replace")):
        raise ToolError("git_repo", f"{path.name!r} has config includes")
    return git_dir


def _git(context: ToolContext) -> dict[str, Any]:
    def git(*argv: str, cwd: Path | None = None) -> str:
        # NOTE: a repository in the sandbox is written by the model: its config must not run programs
        # (fsmonitor, hooks) and git must not pick up the host's config or discover a repository above.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(context.sandbox), "LC_ALL": "C",
               "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
               "GIT_ALLOW_PROTOCOL": "file", "GIT_CEILING_DIRECTORIES": str(context.sandbox.parent)}
        safe = ["-c", "core.fsmonitor=false", "-c", f"core.hooksPath={os.devnull}", "-c", "core.symlinks=false",
                "-c", "protocol.file.allow=always", "-c", "safe.directory=*"]
        done = subprocess.run(["git", *safe, *argv], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)
        if done.returncode:
            raise ToolError("git_repo", f"git {argv[0]} failed: {done.stderr.strip()[:300]}")
        return done.stdout

    def repo(a: dict[str, Any]) -> Path:
        path = sandbox_path(context, "git_repo", require("git_repo", a, "path")[0], must_exist=True)
        if _git_dir(context, path) != path / ".git":
            raise ToolError("git_repo", f"{a['path']!r} is a bare repository; clone it first")
        return path

    def clone(a: dict[str, Any]) -> dict[str, Any]:
        source, target = require("git_repo", a, "url", "path")
        local = source[7:] if source.startswith("file://") else source
        if "://" in local or "@" in local.split("/")[0]:
            raise ToolError("git_repo", "only local repositories (paths in the sandbox) can be cloned on this host")
        origin = sandbox_path(context, "git_repo", local, must_exist=True)
        _git_dir(context, origin)
        dest = sandbox_path(context, "git_repo", target)
        argv = ["clone", "--quiet", "--no-local", "--config", "core.symlinks=false"] + (
            ["--branch", a["branch"]] if a.get("branch") else []) + (
            ["--depth", str(a["depth"])] if a.get("depth") else []) + ["--", str(origin), str(dest)]
        git(*argv)
        return {"path": target, "commit": git("rev-parse", "HEAD", cwd=dest).strip()}

    def read_files(a: dict[str, Any]) -> dict[str, Any]:
        root, total, out = repo(a), 0, {}
        for name in a.get("files") or [a.get("file")]:
            if not name:
                raise ToolError("git_repo", "argument 'files' is required for this operation")
            file = sandbox_path(context, "git_repo", str(root / name), must_exist=True)
            if not file.is_file() or not inside(root, file):
                raise ToolError("git_repo", f"{name!r} is not a file of the repository")
            with file.open("rb") as handle:
                data = handle.read(_MAX_FILE)
            total += len(data)
            if total > _MAX_TOTAL:
                raise ToolError("git_repo", f"reading more than {_MAX_TOTAL} bytes in one call")
            out[name] = data.decode(errors="replace")
        return {"files": out}

    def info(a: dict[str, Any]) -> dict[str, Any]:
        root = repo(a)
        return {"branch": git("rev-parse", "--abbrev-ref", "HEAD", cwd=root).strip(),
                "commit": git("rev-parse", "HEAD", cwd=root).strip(),
                "tags": git("tag", "--points-at", "HEAD", cwd=root).split(),
                "commits": int(git("rev-list", "--count", "HEAD", cwd=root).strip())}

    return {
        "clone": clone,
        "list_files": lambda a: {"files": git("ls-files", cwd=repo(a)).splitlines()[:5000]},
        "read_file": lambda a: {"content": read_files({**a, "files": [require("git_repo", a, "file")[0]]})["files"][a["file"]]},
        "read_files": read_files,
        "get_info": info,
    }


def code_tools(context: ToolContext) -> list[Tool]:
    """Fresh instances of the code tools bound to `context`'s sandbox."""
    s = {"type": "string"}
    return [
        Tool("code_search", "Search code under a sandbox path: text, regex, symbol (whole word) or definition, "
             "with optional context lines and a file glob.",
             obj({"query": {"type": "string", "minLength": 1}, "path": s,
                  "mode": {"type": "string", "enum": ["text", "regex", "symbol", "definition"]},
                  "context_lines": {"type": "integer", "minimum": 0, "maximum": 10}, "file_pattern": s}, ("query",)),
             _search(context)),
        op_tool("diff_generator", "Unified diffs: generate (original vs modified), apply (a diff to original), "
                "analyze (files, hunks, additions, deletions).", {"generate": _diff, "apply": _apply,
                                                                  "analyze": _analyze},
                {"original": s, "modified": s, "diff": s, "from_name": s, "to_name": s,
                 "context_lines": {"type": "integer", "minimum": 0, "maximum": 20}}),
        op_tool("git_repo", "Local git repositories in the sandbox: clone (from a local path; branch, depth), "
                "list_files, read_file, read_files (100 KB per file, 1 MB per call), get_info.", _git(context),
                {"url": s, "path": s, "branch": s, "depth": {"type": "integer", "minimum": 1}, "file": s,
                 "files": {"type": "array", "items": s, "maxItems": 100}}, ("path",)),
    ]
