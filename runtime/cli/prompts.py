"""`agentstage prompts list|show|render|add|remove`: the versioned prompt registry on the command line.

Prompts are JSON files in AGENTSTAGE_PROMPT_DIR (default `$AGENTSTAGE_HOME/prompts`), the folder the API
and every System built from the same settings read; `add` replaces the version it names.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from agentstage.runtime.cli.common import ExitCode, add_config_flags, config_from_args, emit_json, fail

__all__ = ["register"]


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser("prompts", help="versioned prompts: list, show, render, add, remove",
                              description="Prompts are name@version specs whose system text has {{variable}} "
                                          "tokens; a bare name means its greatest version.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every prompt version", epilog="example: agentstage prompts list")
    show = actions.add_parser("show", help="one prompt version in full", epilog="example: agentstage prompts show sre")
    show.add_argument("ref", help="name or name@version")
    render = actions.add_parser("render", help="a prompt's system text with its variables filled",
                                epilog="example: agentstage prompts render sre --var service=checkout")
    render.add_argument("ref", help="name or name@version")
    render.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a variable (repeatable)")
    add = actions.add_parser("add", help="save a prompt version from a JSON file (replacing that version)",
                             epilog='example: agentstage prompts add triage.json   # {"name": "triage", '
                                    '"version": "v2", "system": "Help with {{service}}"}')
    add.add_argument("file", help="a JSON spec: name, version (default v1), system, description, tags")
    remove = actions.add_parser("remove", help="remove a prompt version (a bare name: every version)",
                                epilog="example: agentstage prompts remove triage@v1")
    remove.add_argument("ref", help="name or name@version")
    for action, handler in ((listing, list_command), (show, show_command), (render, render_command),
                            (add, add_command), (remove, remove_command)):
        add_config_flags(action, "prompt_dir")
        if action is not remove:
            action.add_argument("--json", action="store_true", help="print JSON")
        action.set_defaults(handler=_usage(handler))


def _usage(handler: Any) -> Any:
    """`handler` with a bad name, file or variable reported as a usage error (exit 2), never a traceback."""
    def run(args: argparse.Namespace) -> int:
        from agentstage.runtime.errors import InvalidArgument

        try:
            return handler(args)
        except InvalidArgument as exc:
            return fail(str(exc), ExitCode.USAGE)
    return run


def _registry(args: argparse.Namespace) -> Any:
    from agentstage.runtime.prompts import PromptRegistry, prompt_dir

    return PromptRegistry(prompt_dir(config_from_args(args)))


def list_command(args: argparse.Namespace) -> int:
    specs = _registry(args).all()
    if args.json:
        emit_json([spec.to_dict() for spec in specs])
        return ExitCode.OK
    for spec in specs:
        origin = "built-in" if spec.builtin else "file"
        print(f"{spec.ref:<32} {origin:<8} {', '.join(spec.variables) or '-':<24} {spec.description}")
    return ExitCode.OK


def show_command(args: argparse.Namespace) -> int:
    spec = _registry(args).get(args.ref)
    if args.json:
        emit_json(spec.to_dict())
        return ExitCode.OK
    print(f"{spec.ref}  {spec.description}".rstrip())
    if spec.tags:
        print(f"tags: {', '.join(spec.tags)}")
    print(f"variables: {', '.join(spec.variables) or '-'}")
    print(spec.system)
    return ExitCode.OK


def render_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.errors import InvalidArgument

    variables: dict[str, str] = {}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InvalidArgument("--var", f"expected NAME=VALUE, got {item!r}")
        variables[name] = value
    registry = _registry(args)
    rendered = registry.render(args.ref, variables)
    if args.json:
        emit_json({"ref": registry.get(args.ref).ref, "rendered": rendered})
    else:
        print(rendered)
    return ExitCode.OK


def add_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.errors import InvalidArgument
    from agentstage.runtime.prompts import PromptSpec

    path = Path(args.file)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return fail(f"cannot read {path}: {exc.strerror}", ExitCode.USAGE)
    except ValueError as exc:
        raise InvalidArgument(str(path), f"not JSON: {exc}") from None
    spec = _registry(args).upsert(PromptSpec.from_dict(data, default_name=path.stem.partition("@")[0]))
    if args.json:
        emit_json(spec.to_dict())
    else:
        print(f"saved {spec.ref}")
    return ExitCode.OK


def remove_command(args: argparse.Namespace) -> int:
    for ref in _registry(args).delete(args.ref):
        print(f"removed {ref}")
    return ExitCode.OK
