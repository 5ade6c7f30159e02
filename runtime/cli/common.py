"""Shared pieces of CLI verbs: exit codes, config flags, JSON output."""

from __future__ import annotations

import argparse
import enum
import json
import os
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentstage.runtime.config import Config
from agentstage.runtime.errors import ConfigError

if TYPE_CHECKING:
    from agentstage.runtime.state.base import StoreReader

__all__ = ["ExitCode", "HelpFormatter", "add_config_flags", "config_from_args", "emit_json", "fail", "finish_help",
           "note_new_state_file", "state_patch", "stored_reader"]


class ExitCode(enum.IntEnum):
    OK = 0
    RUN_FAILED = 1
    USAGE = 2
    UNAVAILABLE = 3
    INTERRUPTED = 130


def fail(message: str, code: int = ExitCode.USAGE) -> int:
    """Print a one-line error and return `code`."""
    print(f"agentstage: {message.splitlines()[0] if message else 'error'}", file=sys.stderr)
    return code


class HelpFormatter(argparse.HelpFormatter):
    """Wraps prose at spaces only (never a word or a flag at its hyphen) and leaves indented lines,
    the example commands, whole so they can be copied."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + line if line[:1].isspace() else
                         textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent,
                                       break_on_hyphens=False, break_long_words=False)
                         for line in text.splitlines())

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False, break_long_words=False)


def finish_help(parser: argparse.ArgumentParser) -> None:
    """Give `parser` and every verb and action under it the HelpFormatter, and a description (its help line)."""
    parser.formatter_class = HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                if not sub.description and helps.get(name):
                    sub.description = helps[name][0].upper() + helps[name][1:] + "."
                if sub.epilog and sub.epilog.startswith("example: "):
                    sub.epilog = "example:\n  " + sub.epilog.removeprefix("example: ")
                finish_help(sub)


def add_config_flags(parser: argparse.ArgumentParser, *names: str) -> None:
    """Add `--env-file`, `--home`/`--db` and the named Config settings as flags showing default and variable."""
    from agentstage.runtime.config import setting_fields

    parser.add_argument("--env-file", metavar="PATH", default=None,
                        help="settings file read under the environment instead of ./.env; 'none' reads no file "
                             "(default: ./.env when present)")

    fields = {f.name: f for f in setting_fields()}
    for name in ("home", "db_path", *names):
        f = fields[name]
        flag = "--db" if name == "db_path" else "--" + name.replace("_", "-")
        kind = {"int": int, "float": float}.get(str(f.type), str)
        says_default = "(default:" in f.metadata["help"] or f.default in ("", None)
        shown = f"env {f.metadata['env']}" if says_default else f"default: {f.default!r}; env {f.metadata['env']}"
        parser.add_argument(flag, dest=f"cfg_{name}", type=kind, default=None, metavar=name.split("_")[-1].upper(),
                            help=f"{f.metadata['help']} ({shown})")


def config_from_args(args: argparse.Namespace) -> Config:
    """Config from `.env` (or `--env-file`), the environment and the flags given on the command line.

    Raises ConfigError when an `--env-file` named explicitly is not a file, or when the agent
    settings cannot build an agent (max iterations below 1), before any runtime starts.
    """
    overrides = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_") and v is not None}
    env_file = getattr(args, "env_file", None)
    if env_file is not None and env_file != "none" and not Path(env_file).is_file():
        raise ConfigError("--env-file", env_file, "no such file")
    dotenv = ".env" if env_file is None else None if env_file == "none" else env_file
    config = Config.from_env(os.environ, dotenv=dotenv, **overrides)
    if config.max_iterations < 1:
        raise ConfigError("--max-iterations/AGENTSTAGE_MAX_ITERATIONS", config.max_iterations, "must be at least 1")
    if config.db_path and not config.state_path.parent.exists():
        args.new_state_file = config.state_path
    return config


def note_new_state_file(args: argparse.Namespace) -> None:
    """Say so (once) when the command created the state file `--db`/AGENTSTAGE_DB named in a missing directory.

    Called when the command ends, and by serving verbs as soon as they are up.
    """
    path = getattr(args, "new_state_file", None)
    if path is not None and path.exists():
        args.new_state_file = None
        print(f"agentstage: created the state file {path} (its directory did not exist)", file=sys.stderr, flush=True)


def emit_json(value: Any) -> None:
    """Print one JSON document on stdout."""
    print(json.dumps(value, ensure_ascii=False, default=str))


def stored_reader(args: argparse.Namespace) -> StoreReader | None:
    """A reader of the configured store, or None when the SQLite file does not exist yet (nothing stored)."""
    from agentstage.runtime.state.factory import StateBackend
    from agentstage.runtime.state.reader import SQLiteReader

    config = config_from_args(args)
    if config.state == "redis":
        return StateBackend(config).reader()
    return SQLiteReader(config.state_path) if config.state_path.exists() else None


def state_patch(assignments: list[str]) -> dict[str, Any]:
    """The state changes of `--set KEY=VALUE` flags: VALUE is JSON when it parses, else text.

    Raises ValueError naming the first assignment that has no `=` or no key.
    """
    patch: dict[str, Any] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            patch[key] = json.loads(value)
        except ValueError:
            patch[key] = value
    return patch
