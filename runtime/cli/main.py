"""The `agentstage` command: one console script with verbs.

Exit codes: 0 ok, 1 run failed, 2 usage or configuration error, 3 cannot reach the store or
Redis, 130 interrupted. Errors print one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence

from agentstage.runtime.cli.verbs import COMMANDS
from agentstage.runtime.cli.common import ExitCode, fail, finish_help, note_new_state_file
from agentstage.runtime.cli.one_verb import OnlyVerb
from agentstage.runtime.errors import AgentstageError, ConfigError, NotFound, Refused, StoreError

__all__ = ["build_parser", "console", "main"]

EPILOG = """examples:
  agentstage run -- "What is 6 * 7?"
  agentstage run --json --session demo -- "calculate (2+3)*4"
  agentstage runs list --status failed
  agentstage runs show RUN_ID

exit codes: 0 ok, 1 run failed, 2 usage error, 3 store or Redis unreachable, 130 interrupted"""


def build_parser(verb: str | None = None) -> argparse.ArgumentParser:
    """The argument parser, every verb registered by a module of `runtime.commands`.

    With `verb`, only that verb's parser is built (see `commands.one_verb`); when no module
    registers it, the full parser (whose error then lists every verb).
    """
    parser = argparse.ArgumentParser(
        prog="agentstage", description="agentstage: an actor runtime for AI agents.", epilog=EPILOG,
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    target = verbs if verb is None else OnlyVerb(verbs, verb)
    for register in COMMANDS:
        register(target)
    if verb is not None and not verbs.choices:
        return build_parser()
    finish_help(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv and not argv[0].startswith("-") else None)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except ConfigError as exc:
        return fail(f"configuration error: {exc}", ExitCode.USAGE)
    except (NotFound, Refused) as exc:
        return fail(str(exc), ExitCode.USAGE)
    except StoreError as exc:
        return fail(str(exc), ExitCode.UNAVAILABLE)
    except AgentstageError as exc:
        return fail(str(exc), ExitCode.RUN_FAILED)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK
    finally:
        note_new_state_file(args)


def console() -> None:
    """The `agentstage` console script: `main`, exiting with its code.

    PERF: `gc.freeze()` first moves every object the verb created into the permanent generation, so
    the collection the interpreter runs as it exits skips them (40-90 ms after an offline run).
    """
    try:
        code = main()
    finally:
        gc.freeze()
    sys.exit(code)
