"""Registering one verb: the parser of `agentstage VERB ...` without the parsers of every other verb.

PERF: argparse builds each verb's parser and flags as it is registered, 15-25 ms for all of them;
a command line naming its verb needs only that one. The other verbs' `register` calls still run,
against stand-ins that take every call and keep nothing.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["OnlyVerb"]


class _Ignored:
    """Stands in for a parser, group or action of a verb not on the command line: every call returns itself."""

    def __getattr__(self, name: str) -> Any:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> _Ignored:
        return self


class OnlyVerb:
    """A subparsers action that adds the parser of `verb` (by name or alias) and ignores the others."""

    def __init__(self, verbs: argparse._SubParsersAction, verb: str) -> None:
        self.verbs = verbs
        self.verb = verb

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if name == self.verb or self.verb in kwargs.get("aliases", ()):
            return self.verbs.add_parser(name, **kwargs)
        return _Ignored()
