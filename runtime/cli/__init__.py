"""The `agentstage` command line: the parser and entry point (`main`), and one module per group of verbs,
each contributing a `register(subparsers)` listed in `verbs.COMMANDS`."""

from agentstage.runtime.cli.main import build_parser, console, main

__all__ = ["build_parser", "console", "main"]
