"""CLI verbs; each module contributes a `register(subparsers)` function listed here."""

from agentstage.runtime.commands import run, runs

COMMANDS = [run.register, runs.register]

__all__ = ["COMMANDS"]
