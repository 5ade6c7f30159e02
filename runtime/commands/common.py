"""Shared pieces of CLI verbs: exit codes, config flags, JSON output."""

from __future__ import annotations

import argparse
import enum
import json
import os
import sys
from typing import Any

from agentstage.runtime.config import Config

__all__ = ["ExitCode", "add_config_flags", "config_from_args", "emit_json", "fail"]


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


def add_config_flags(parser: argparse.ArgumentParser, *names: str) -> None:
    """Add `--home`/`--db` and the named Config settings as flags showing default and variable."""
    from agentstage.runtime.config import setting_fields

    fields = {f.name: f for f in setting_fields()}
    for name in ("home", "db_path", *names):
        f = fields[name]
        flag = "--db" if name == "db_path" else "--" + name.replace("_", "-")
        kind = {"int": int, "float": float}.get(str(f.type), str)
        parser.add_argument(flag, dest=f"cfg_{name}", type=kind, default=None, metavar=name.split("_")[-1].upper(),
                            help=f"{f.metadata['help']} (default: {f.default!r}; env {f.metadata['env']})")


def config_from_args(args: argparse.Namespace) -> Config:
    """Config from `.env`, the environment and the flags given on the command line."""
    overrides = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_") and v is not None}
    return Config.from_env(os.environ, **overrides)


def emit_json(value: Any) -> None:
    """Print one JSON document on stdout."""
    print(json.dumps(value, ensure_ascii=False, default=str))
