"""The `agentstage` console script end to end, in real subprocesses."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agentstage.runtime.cli import build_parser

AGENTSTAGE = str(Path(sys.executable).parent / "agentstage")


def cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    environment.update({"AGENTSTAGE_HOME": str(tmp_path / "home"), **(env or {})})
    return subprocess.run([AGENTSTAGE, *args], capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=60)


def test_run_prints_the_answer(tmp_path: Path) -> None:
    done = cli(tmp_path, "run", "--", "calculate (2+3)*4")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "(2+3)*4 = 20\n"
    assert "scripted provider" in done.stderr


def test_run_json_and_the_run_is_listed_and_shown(tmp_path: Path) -> None:
    done = cli(tmp_path, "run", "--json", "--session", "demo", "--", "Explain zero trust in 5 bullets")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "completed" and result["session_id"] == "demo"
    assert result["output"].count("\n- ") == 5 and result["usage"]["total_tokens"] > 0
    listed = json.loads(cli(tmp_path, "runs", "list", "--json").stdout)
    assert [r["run_id"] for r in listed] == [result["run_id"]]
    shown = cli(tmp_path, "runs", "show", result["run_id"])
    assert shown.returncode == 0 and "run.completed" in shown.stdout
    timeline = json.loads(cli(tmp_path, "runs", "show", "--json", result["run_id"]).stdout)
    assert [e["type"] for e in timeline["events"]][0] == "run.started"


def test_progress_goes_to_stderr_step_by_step(tmp_path: Path) -> None:
    done = cli(tmp_path, "run", "--progress", "--", "calculate 2*21")
    assert done.stdout == "2*21 = 42\n"
    assert "tool.call     calculator" in done.stderr and "run.completed" in done.stderr
    assert re.search(r"llm\.response  asks for calculator  \(\d+\.\d\ds\)\n", done.stderr), done.stderr
    assert re.search(r"tool\.result   calculator -> .*  \(\d+\.\d\ds\)\n", done.stderr), done.stderr
    assert "\r" not in done.stderr


def test_failed_run_exits_1_with_one_line(tmp_path: Path) -> None:
    done = cli(tmp_path, "run", "--max-iterations", "1", "--", "calculate 1+1")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("agentstage: run ") and "max iterations" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (("run", "--"), {}, 2, "the prompt is empty"),
        (("run", "--provider", "nope", "--", "hi"), {}, 2, "unknown provider"),
        (("run", "--", "hi"), {"AGENTSTAGE_TOOLS": "calculator,teleport"}, 2, "unknown tool"),
        (("run", "--", "hi"), {"AGENTSTAGE_MAX_ITERATIONS": "many"}, 2, "AGENTSTAGE_MAX_ITERATIONS"),
        (("runs", "show", "nope"), {}, 2, "unknown run"),
        (("run", "--bogus-flag", "--", "hi"), {}, 2, "unrecognized arguments"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path: Path, args, env, code, message) -> None:
    done = cli(tmp_path, *args, env=env)
    assert done.returncode == code
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_state_file_that_is_not_sqlite_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_text("not sqlite" * 200)
    done = cli(tmp_path, "run", "--db", str(bad), "--", "hi")
    assert done.returncode == 3 and "not a SQLite database" in done.stderr
    assert bad.read_text().startswith("not sqlite")


def test_every_verb_has_help() -> None:
    parser = build_parser()
    verbs = parser._subparsers._group_actions[0].choices
    for name, sub in verbs.items():
        text = sub.format_help()
        assert "usage:" in text, name
    assert "AGENTSTAGE_PROVIDER" in verbs["run"].format_help()
    done = subprocess.run([AGENTSTAGE, "--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "exit codes" in done.stdout


def _parsers(parser, path=("agentstage",)):
    yield " ".join(path), parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_every_verb_and_action_has_a_description_and_shows_each_default_once(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    for path, parser in _parsers(build_parser()):
        assert parser.description, path
        text = parser.format_help()
        for option in re.split(r"\n  (?=-)", text.split("options:")[-1]):
            assert option.count("(default") <= 1, (path, option)
        assert not re.search(r"\w-\n", text), (path, text)
        commands = [line for line in text.splitlines() if line.startswith("  agentstage ")]
        assert all(line.count('"') % 2 == 0 for line in commands), (path, commands)


_HEAVY = ("aiohttp", "apsw", "asyncio", "dns", "dotenv", "falcon", "httpx", "jsonschema", "loguru", "marshmallow", "psutil",
          "pykka", "re2", "redis", "sqlite_vec", "uvicorn")
# Loaded by none of the verbs an offline run goes through: each loads where its feature is used.
_NOT_ON_THE_RUN_PATH = ("aiohttp", "apispec", "apsw.bestpractice", "apsw.ext", "certifi", "dns", "docstring_parser",
                        "dotenv", "falcon", "h11", "html.parser", "httpx", "jsonschema", "marshmallow", "psutil",
                        "re2", "redis", "smtplib", "sqlite_vec", "tarfile", "uvicorn", "zipfile",
                        "agentstage.api", "agentstage.runtime.distributed", "agentstage.runtime.evals")
_LOADED_AFTER = """
import json, sys
from agentstage.runtime.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.stderr.write(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["worker-start", "--help"], ["ui-api", "--help"]])
def test_help_imports_no_provider_transport_store_or_server_library(args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", _LOADED_AFTER, *args], capture_output=True, text=True, timeout=60)
    loaded = set(json.loads(done.stderr))
    assert "usage: agentstage" in done.stdout
    assert sorted(name for name in _HEAVY if name in loaded) == []
    assert "agentstage.runtime.system" not in loaded and "agentstage.actors" not in loaded


def test_an_offline_run_imports_no_schema_validator_server_redis_or_host_library(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    environment.update({"AGENTSTAGE_HOME": str(tmp_path / "home"), "AGENTSTAGE_PROVIDER": "scripted"})
    for _ in range(2):  # NOTE: the second run finds the home, its store and its migrations in place
        done = subprocess.run([sys.executable, "-c", _LOADED_AFTER, "run", "--", "calculate 6 * 7"], capture_output=True,
                              text=True, env=environment, cwd=tmp_path, timeout=60)
        assert done.stdout == "6 * 7 = 42\n", done.stderr
        loaded = set(json.loads(done.stderr.splitlines()[-1]))
        assert sorted(name for name in _NOT_ON_THE_RUN_PATH if name in loaded) == []
        assert "agentstage.runtime.system" in loaded


def test_a_parser_built_for_one_verb_parses_and_helps_as_the_full_one(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    full = dict(_parsers(build_parser()))
    verbs = sorted({path.split(" ")[1] for path in full if path != "agentstage"})
    assert len(verbs) > 15
    for verb in verbs:
        only = dict(_parsers(build_parser(verb)))
        assert set(only) == {path for path in full if path.split(" ")[1:2] == [verb]} | {"agentstage"}
        for path, parser in only.items():
            if path != "agentstage":
                assert parser.format_help() == full[path].format_help(), path
    args = ["run", "--json", "--provider", "scripted", "--", "calculate 1 + 1"]
    assert vars(build_parser("run").parse_args(args)) == vars(build_parser().parse_args(args))
    assert len(dict(_parsers(build_parser("no-such-verb")))) == len(full)
