"""shell_command (off by default; allow-listed programs, no shell, scrubbed env, limits), env_vars
redaction, process/disk/system info."""

import os

import pytest

from agentstage.runtime.errors import ToolArgumentsError, ToolError
from agentstage.runtime.tools.builtin import builtin_registry
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.shell import MAX_OUTPUT


def shell(tools, **arguments):
    return tools.get("shell_command")(arguments)


def test_shell_is_disabled_unless_enabled(tmp_path) -> None:
    disabled = builtin_registry(ToolContext(sandbox=tmp_path))
    with pytest.raises(ToolError, match="disabled"):
        shell(disabled, command="echo hi")


def test_shell_runs_allowed_programs_in_the_sandbox(tools, context) -> None:
    result = shell(tools, command="echo", args=["hello"])
    assert (result["exit_code"], result["stdout"]) == (0, "hello\n")
    assert shell(tools, command="pwd")["stdout"].strip() == str(context.sandbox)
    assert shell(tools, command="false")["exit_code"] == 1


@pytest.mark.parametrize("command", [
    "env rm -rf x", "sh -c 'rm -rf x'", "bash -c id", "nice rm x", "xargs rm", "find . -delete",
    "find . -exec rm {} ;", "python3 -c 'import os'", "perl -e 1", "rm -rf x", "/bin/rm x", "./script",
    "\\rm x", "timeout 1 rm x", "sudo ls", "awk 'BEGIN{system(\"id\")}'", "sed -n e", "sort --compress-program=sh"])
def test_wrappers_interpreters_and_unlisted_programs_are_refused(tools, command) -> None:
    with pytest.raises(ToolError, match="not allowed"):
        shell(tools, command=command)


@pytest.mark.parametrize("command", ["echo `id`", "echo $(id)", "echo $HOME ${PATH}", "echo a; id", "echo a && id",
                                     "echo a | id", "echo a > out.txt"])
def test_shell_syntax_is_passed_as_literal_arguments(tools, context, command) -> None:
    out = shell(tools, command=command)["stdout"]
    assert out.startswith("a") or "$" in out or "`" in out
    assert "uid=" not in out and str(context.sandbox) not in out
    assert not (context.sandbox / "out.txt").exists()


def test_the_old_shell_switch_is_gone(tools) -> None:
    with pytest.raises(ToolArgumentsError):
        shell(tools, command="echo hi | tr a-z A-Z", shell=True)


@pytest.mark.parametrize("command", ["cat /etc/passwd", "cat /etc/hostname", "cat ../../outside.txt", "ls /",
                                     "grep -r root /etc", "cat --file=/etc/hostname", "head ~/.bashrc",
                                     "echo ok; rm -rf /"])
def test_arguments_naming_paths_outside_the_sandbox_are_refused(tools, context, command) -> None:
    with pytest.raises(ToolError, match="outside the tool sandbox|blocked"):
        shell(tools, command=command)


def test_a_symlink_argument_leading_out_is_refused(tools, context, tmp_path) -> None:
    (tmp_path / "secret.txt").write_text("s3cret")
    context.sandbox.mkdir(parents=True, exist_ok=True)
    (context.sandbox / "innocent").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(ToolError, match="outside the tool sandbox"):
        shell(tools, command="cat innocent")


def test_the_environment_is_scrubbed_of_secrets(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AS_TEST_API_TOKEN", "supersecret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-supersecret")
    tools = builtin_registry(ToolContext(sandbox=tmp_path, shell_enabled=True, shell_programs=("env",)))
    out = shell(tools, command="env")["stdout"]
    assert "supersecret" not in out and "AS_TEST" not in out
    assert sorted(line.split("=")[0] for line in out.splitlines()) == ["HOME", "LANG", "PATH", "TMPDIR"]


def test_shell_timeout_kills_the_program(tools) -> None:
    with pytest.raises(ToolError, match="timed out"):
        shell(tools, command="sleep", args=["5"], timeout=1)


def test_output_is_capped(tools, context) -> None:
    context.sandbox.mkdir(parents=True, exist_ok=True)
    (context.sandbox / "big.txt").write_bytes(b"x" * (3 * MAX_OUTPUT))
    result = shell(tools, command="cat big.txt")
    assert len(result["stdout"]) <= MAX_OUTPUT


@pytest.mark.skipif(not hasattr(os, "getrlimit") and os.name != "posix", reason="no resource limits here")
def test_resource_limits_apply_to_the_program(tmp_path) -> None:
    tools = builtin_registry(ToolContext(sandbox=tmp_path, shell_enabled=True, shell_programs=("sh",)))
    out = shell(tools, command="sh", args=["-c", "ulimit -n; ulimit -c"])["stdout"].split()
    assert out == ["64", "0"]


def test_env_vars_redact_and_refuse_sensitive_names(tools, monkeypatch) -> None:
    monkeypatch.setenv("AS_TEST_API_TOKEN", "supersecret")
    monkeypatch.setenv("AS_TEST_COLOUR", "blue")
    env = tools.get("env_vars")
    assert env({"operation": "get", "name": "AS_TEST_API_TOKEN"})["value"] == "[REDACTED]"
    assert env({"operation": "get", "name": "AS_TEST_COLOUR"})["value"] == "blue"
    listed = env({"operation": "search", "pattern": "as_test"})["variables"]
    assert listed == {"AS_TEST_API_TOKEN": "[REDACTED]", "AS_TEST_COLOUR": "blue"}
    assert "supersecret" not in str(env({"operation": "list"}))
    with pytest.raises(ToolError, match="refusing"):
        env({"operation": "set", "name": "MY_PASSWORD", "value": "x"})
    monkeypatch.delenv("AS_TEST_SET", raising=False)
    env({"operation": "set", "name": "AS_TEST_SET", "value": "1"})
    assert os.environ.pop("AS_TEST_SET") == "1"
    assert env({"operation": "check", "names": ["AS_TEST_COLOUR", "AS_NOPE"]})["present"] == {
        "AS_TEST_COLOUR": True, "AS_NOPE": False}


def test_process_disk_and_system_info(tools, context) -> None:
    processes = tools.get("process_manager")
    mine = processes({"operation": "info", "pid": os.getpid()})
    assert mine["pid"] == os.getpid() and "python" in mine["command"]
    assert len(processes({"operation": "top", "limit": 3})["processes"]) <= 3
    with pytest.raises(ToolError, match="no process"):
        processes({"operation": "info", "pid": 2**22 + 7})
    tools.get("file_system")({"operation": "write", "path": "d/f", "content": "12345"})
    assert tools.get("disk_usage")({"operation": "du", "path": "d"}) == {"path": "d", "bytes": 5, "files": 1}
    assert tools.get("disk_usage")({"operation": "df"})["total"] > 0
    assert tools.get("system_info")({"operation": "summary"})["cpus"] >= 1
