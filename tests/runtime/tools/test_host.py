"""shell_command (off by default, blocked binaries/patterns), env_vars redaction, process/disk/system info."""

import os

import pytest

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools.builtin import builtin_registry
from agentstage.runtime.tools.context import ToolContext


def shell(tools, **arguments):
    return tools.get("shell_command")(arguments)


def test_shell_is_disabled_unless_enabled(tmp_path) -> None:
    disabled = builtin_registry(ToolContext(sandbox=tmp_path))
    with pytest.raises(ToolError, match="disabled"):
        shell(disabled, command="echo hi")


def test_shell_runs_commands_in_the_sandbox(tools, context) -> None:
    result = shell(tools, command="echo", args=["hello"])
    assert (result["exit_code"], result["stdout"]) == (0, "hello\n")
    assert shell(tools, command="pwd")["stdout"].strip() == str(context.sandbox)
    assert shell(tools, command="echo $X | tr a-z A-Z", shell=True, env={"X": "up"})["stdout"] == "UP\n"
    assert shell(tools, command="exit 3", shell=True)["exit_code"] == 3


@pytest.mark.parametrize("command, shell_mode", [
    ("rm -rf /tmp/x", False), ("/bin/kill 1", False), ("echo ok; rm -rf /", True), ("sudo ls", True),
    ("chmod 777 f", True), (":(){ :|:& };:", True), ("echo x > /dev/sda", True)])
def test_shell_blocks_dangerous_commands(tools, command, shell_mode) -> None:
    with pytest.raises(ToolError, match="blocked"):
        shell(tools, command=command, shell=shell_mode)


def test_shell_timeout(tools) -> None:
    with pytest.raises(ToolError, match="timed out"):
        shell(tools, command="sleep", args=["5"], timeout=1)


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
