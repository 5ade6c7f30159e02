"""The README's Python examples and its command lines naming shipped files run as written, offline."""

import json
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

from agentstage.runtime.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _commands(containing: str) -> list[list[str]]:
    """The `agentstage` command lines of the README's sh blocks that contain `containing`, comments cut."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    commands = [shlex.split(line) for line in lines if containing in line]
    return [words[1:] for words in commands if words and words[0] == ".venv/bin/agentstage"]


def _env_commands(containing: str) -> list[tuple[dict[str, str], list[str]]]:
    """Like `_commands`, for lines starting with `NAME=VALUE` settings: (settings, arguments)."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    found = []
    for line in (line.split("  #")[0].strip() for block in blocks for line in block.splitlines()):
        words = shlex.split(line) if containing in line else []
        settings = dict(word.split("=", 1) for word in words if re.match(r"^[A-Z_]+=", word))
        rest = words[len(settings):]
        if settings and rest and rest[0] == ".venv/bin/agentstage":
            found.append((settings, rest[1:]))
    return found


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run the CLI in a fresh directory holding a copy of `examples/`, with no AGENTSTAGE_* settings."""
    for name in [k for k in os.environ if k.startswith("AGENTSTAGE_")]:
        monkeypatch.delenv(name)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)

    def run(args: list[str]) -> tuple[int, str, str]:
        code = main(args)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_readme_python_examples_run(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert blocks
    for block in blocks:
        homed = re.sub(r'"/tmp/(agentstage-[\w-]+)"', lambda m: repr(str(tmp_path / m.group(1))), block)
        exec(compile(homed, "README.md", "exec"), {})


def test_readme_files_are_shipped() -> None:
    named = {arg for args in _commands("examples/") for arg in args if "examples/" in arg}
    assert len(named) >= 4
    for arg in named:
        assert (ROOT / arg.split("=")[-1]).is_file(), arg


def test_review_workflow_steps_run_as_written(cli) -> None:
    (run,) = _commands("review.json")
    code, out, err = cli(run)
    assert code == 0 and out == "" and "waiting for input at node 'review'" in err
    run_id = err.split("graph-resume ")[1].split()[0]
    (resume,) = [args for args in _commands("--input approve") if args[0] == "graph-resume"]
    code, out, err = cli([run_id if arg == "RUN_ID" else arg for arg in resume] + ["--json"])
    result = json.loads(out)
    assert code == 0 and result["status"] == "completed"
    assert result["trace"][-2:] == ["decide", "publish"] and result["state"]["stats"]["words"] > 0


def test_custom_http_tool_step_runs_as_written(cli) -> None:
    (add,) = _commands("add-http")
    code, out, err = cli(add)
    assert (code, err) == (0, "") and out.startswith("custom tool lookup saved (GET https://api.github.com/")
    code, out, _ = cli(["tools", "list", "--json"])
    assert code == 0 and {"name": "lookup", "kind": "custom"}.items() <= next(
        t for t in json.loads(out) if t["name"] == "lookup").items()


def test_builtin_human_workflow_steps_run_as_written(cli) -> None:
    (run,) = _commands("--workflow ask")
    code, _, err = cli(run)
    assert code == 0 and "waiting for input at node 'ask'" in err
    run_id = err.split("graph-resume ")[1].split()[0]
    (resume,) = _commands('--input "6 * 7"')
    code, out, _ = cli([run_id if arg == "RUN_ID" else arg for arg in resume] + ["--json"])
    assert code == 0 and json.loads(out)["state"]["answer"]["result"] == 42


def test_scripted_rule_file_steps_run_as_written(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    (deploy, words) = _env_commands("examples/rules.json")
    monkeypatch.setenv(*next(iter(deploy[0].items())))
    code, out, _ = cli(deploy[1])
    assert (code, out) == (0, "Offline, so api-v2 is not deployed; this is a scripted reply.\n")
    code, out, _ = cli([words[1][0], "--json", *words[1][1:]])
    result = json.loads(out)
    assert code == 0 and result["tool_calls"][0]["tool"] == "text_stats"
    assert result["tool_calls"][0]["result"]["words"] == 3


def test_eval_steps_run_as_written(cli) -> None:
    for args in _commands("eval examples/eval.jsonl"):
        code, out, err = cli(args)
        assert code == 0 and "Traceback" not in err, (args, err)
        assert "5/5 passed" in out


def test_orchestration_steps_run_as_written(cli) -> None:
    steps = _commands("orchestrations ") + _commands("--workflow second-opinion")
    assert [args[1] if args[0] == "orchestrations" else args[0] for args in steps] == [
        "patterns", "add", "list", "show", "remove", "graph-run"]
    graph_run = steps.pop()
    for args in steps[:2] + [graph_run] + steps[2:]:
        code, out, err = cli(args)
        assert code == 0 and "Traceback" not in err, (args, err)
        if args[0] == "graph-run":
            assert "42" in out and "path: answers -> merge" in err
    assert cli(["orchestrations", "list"])[1] == ""
