"""shell_command: one allow-listed program run without a shell, inside the sandbox, with limits.

What it confines: the program (a bare name on the allow-list, found on a fixed PATH; wrappers and
interpreters such as env, sh, nice, xargs, find or python are refused unless allow-listed), its
arguments (an argument naming an existing file or holding a `/` must resolve inside the sandbox),
its environment (PATH, HOME, LANG, TMPDIR only: no secrets), its working directory (the sandbox),
its time (wall and CPU), its output (1 MB per stream) and, where `resource` exists, its memory,
file size, open files and core dumps. What it does not: it runs as the agentstage user, with that
user's network and file permissions; a program reading paths it builds itself is not checked.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools._kit import obj
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.paths import sandbox_path
from agentstage.runtime.tools.registry import Tool

try:
    import resource
except ImportError:  # NOTE: not on Windows; the time and output limits still apply there
    resource = None  # type: ignore[assignment]

__all__ = ["DEFAULT_PROGRAMS", "MAX_OUTPUT", "shell_tool"]

DEFAULT_PROGRAMS = ("cat", "cut", "df", "diff", "du", "echo", "false", "grep", "head", "ls", "md5sum", "printf",
                    "pwd", "sha256sum", "sleep", "stat", "tail", "tr", "true", "wc")
"""Read-only programs allowed when AGENTSTAGE_TOOL_SHELL_PROGRAMS is empty."""
MAX_OUTPUT = 1024 * 1024
_PATH = "/usr/local/bin:/usr/bin:/bin"
_MEMORY = 1024 * 1024 * 1024
_NAME = "shell_command"


def _limits(cpu_seconds: int) -> Any:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY, _MEMORY))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_OUTPUT, MAX_OUTPUT))
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply if resource is not None else None


def _check_arguments(context: ToolContext, cwd: Path, args: Iterable[str]) -> None:
    """Refuse an argument that names a path (holds `/` or exists here) resolving outside the sandbox."""
    for arg in args:
        value = arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg
        if "\0" in value:
            raise ToolError(_NAME, "an argument holds a NUL character")
        candidate = cwd / value
        if value and ("/" in value or value.startswith("~") or candidate.exists() or candidate.is_symlink()):
            sandbox_path(context, _NAME, str(candidate) if not value.startswith(("/", "~")) else value)


def _read(handle: Any) -> str:
    handle.seek(0)
    return handle.read(MAX_OUTPUT).decode(errors="replace")


def shell_tool(context: ToolContext) -> Tool:
    """shell_command bound to `context` (off unless `context.shell_enabled`)."""
    allowed = frozenset(context.shell_programs or DEFAULT_PROGRAMS)

    def run(command: str, args: list[str] | None = None, timeout: int = 60, working_dir: str = ".") -> dict[str, Any]:
        if not context.shell_enabled:
            raise ToolError(_NAME, "shell_command is disabled (set AGENTSTAGE_TOOL_SHELL=true to enable)")
        try:
            argv = [*shlex.split(command), *(args or [])]
        except ValueError as exc:
            raise ToolError(_NAME, f"cannot parse the command: {exc}") from None
        if not argv:
            raise ToolError(_NAME, "the command is empty")
        program = argv[0]
        if "/" in program or program not in allowed:
            raise ToolError(_NAME, f"program {program!r} is not allowed (allowed: {', '.join(sorted(allowed))}; "
                                   "set AGENTSTAGE_TOOL_SHELL_PROGRAMS to change)")
        binary = shutil.which(program, path=_PATH)
        if binary is None:
            raise ToolError(_NAME, f"program {program!r} is not installed on this host")
        cwd = sandbox_path(context, _NAME, working_dir, must_exist=True)
        _check_arguments(context, cwd, argv[1:])
        env = {"PATH": _PATH, "HOME": str(context.sandbox), "LANG": "C.UTF-8", "TMPDIR": str(context.sandbox)}
        started = time.perf_counter()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = subprocess.Popen([binary, *argv[1:]], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=err, start_new_session=True, preexec_fn=_limits(timeout + 1),
                                       close_fds=True)
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise ToolError(_NAME, f"command timed out after {timeout}s") from None
            stdout, stderr = _read(out), _read(err)
        return {"exit_code": code, "stdout": stdout, "stderr": stderr,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)}

    return Tool(_NAME, "Run one allow-listed program with arguments (no shell: no pipes, redirections or "
                "variables) in the sandbox, with time and output limits. Disabled unless AGENTSTAGE_TOOL_SHELL=true.",
                obj({"command": {"type": "string", "minLength": 1, "maxLength": 10_000},
                     "args": {"type": "array", "items": {"type": "string", "maxLength": 10_000}, "maxItems": 100},
                     "timeout": {"type": "integer", "minimum": 1, "maximum": 300},
                     "working_dir": {"type": "string"}}, ("command",)),
                run, side_effects=True)
