"""`agentstage orchestrations patterns|list|show|add|remove`: multi-agent patterns stored as workflows.

An orchestration is a JSON definition (a pattern over named agents) kept as a file of the workflow directory
(AGENTSTAGE_WORKFLOW_DIR, default `$AGENTSTAGE_HOME/workflows`), the folder the API, `graph-run` and workers
load workflows from; `graph-run --workflow NAME` runs one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentstage.runtime.cli.common import ExitCode, add_config_flags, config_from_args, emit_json, fail

if TYPE_CHECKING:
    from agentstage.runtime.workflow.orchestration_store import OrchestrationStore

__all__ = ["register"]

_EXAMPLE = ('{"name": "second-opinion", "pattern": "parallel", "agents": ["default", "secops"], '
            '"aggregator": "default"}')


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "orchestrations", help="multi-agent patterns over named agents: patterns, list, show, add, remove",
        description="An orchestration runs a pattern (sequential, parallel, router, supervisor, debate, consensus) "
                    "over named agents as a workflow of its name, stored in the workflow directory.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    patterns = actions.add_parser("patterns", help="the patterns and their fields",
                                  epilog="example: agentstage orchestrations patterns")
    listing = actions.add_parser("list", help="the stored orchestrations",
                                 epilog="example: agentstage orchestrations list")
    show = actions.add_parser("show", help="one orchestration's definition and its graph (Mermaid)",
                              epilog="example: agentstage orchestrations show second-opinion")
    show.add_argument("name", help="the orchestration's name")
    add = actions.add_parser("add", help="check a JSON definition and store it (a taken name is refused)",
                             epilog=f"example: agentstage orchestrations add second-opinion.json   # {_EXAMPLE}")
    add.add_argument("file", help="a JSON definition: name (default: the file's stem), pattern, the pattern's fields")
    remove = actions.add_parser("remove", help="delete an orchestration's file (refused while runs of it have not "
                                               "ended)", epilog="example: agentstage orchestrations remove "
                                                                "second-opinion")
    remove.add_argument("name", help="the orchestration's name")
    for action, handler in ((patterns, patterns_command), (listing, list_command), (show, show_command),
                            (add, add_command), (remove, remove_command)):
        add_config_flags(action, "workflow_dir")
        if action is not remove:
            action.add_argument("--json", action="store_true", help="print JSON")
        action.set_defaults(handler=_one_line(handler))


def _one_line(handler: Any) -> Any:
    """`handler` with a refused or unknown name reported on one line (exit 2), never a traceback."""
    def run(args: argparse.Namespace) -> int:
        from agentstage.runtime.errors import NotFound, Refused, StoreError

        try:
            return handler(args)
        except NotFound as exc:
            return fail(f"unknown {exc.kind}: {exc.key}", ExitCode.USAGE)
        except Refused as exc:
            return fail(exc.reason, ExitCode.USAGE)
        except StoreError as exc:
            return fail(f"cannot read the store: {exc.reason}", ExitCode.UNAVAILABLE)
    return run


def _store(args: argparse.Namespace) -> OrchestrationStore:
    from agentstage.runtime.cli.workflows import workflow_registry
    from agentstage.runtime.system.graph_runs import workflow_dir
    from agentstage.runtime.system import System
    from agentstage.runtime.workflow.orchestration_store import OrchestrationStore

    config = config_from_args(args)
    agents = {spec.name for spec in System(config).agents()}
    return OrchestrationStore(workflow_dir(config), workflow_registry(args), agents)


def patterns_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.workflow.orchestrations import PATTERNS

    if args.json:
        emit_json([{"name": p.name, "description": p.description, "fields": [f.__dict__ for f in p.fields]}
                   for p in PATTERNS.values()])
        return ExitCode.OK
    for pattern in PATTERNS.values():
        print(f"{pattern.name}: {pattern.description}")
        for spec in pattern.fields:
            need = "required" if spec.required else "optional" + (f", default {spec.default}" if spec.default else "")
            print(f"  {spec.name:<16} {spec.type} ({need}): {spec.description}")
    return ExitCode.OK


def list_command(args: argparse.Namespace) -> int:
    stored = _store(args).all()
    if args.json:
        emit_json([s.to_dict() for s in stored])
        return ExitCode.OK
    for item in stored:
        said = item.definition.get("description") or "" if item.valid else "INVALID: " + "; ".join(item.problems)
        print(f"{item.name:<24} {item.pattern:<11} {said}".rstrip())
    return ExitCode.OK


def show_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.workflow.orchestrations import build_orchestration, parse_orchestration

    stored = _store(args).get(args.name)
    mermaid = build_orchestration(parse_orchestration(stored.definition)).mermaid() if stored.valid else None
    if args.json:
        emit_json({**stored.to_dict(), "mermaid": mermaid})
        return ExitCode.OK
    print(f"{stored.name}  {stored.pattern}  {stored.file}")
    print(json.dumps(stored.definition, indent=2, ensure_ascii=False))
    print(mermaid if mermaid is not None else "INVALID: " + "; ".join(stored.problems))
    return ExitCode.OK


def add_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.workflow.orchestrations import OrchestrationError, parse_orchestration

    path = Path(args.file)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return fail(f"cannot read {path}: {exc.strerror or exc}", ExitCode.USAGE)
    except (ValueError, UnicodeDecodeError) as exc:
        return fail(f"{path}: not JSON: {exc}", ExitCode.USAGE)
    store = _store(args)
    if isinstance(document, dict):
        document.setdefault("name", path.stem)
    try:
        stored = store.add(parse_orchestration(document, store.agents, str(path)))
    except OrchestrationError as exc:
        return fail(f"{path}: {'; '.join(exc.problems)}", ExitCode.USAGE)
    if args.json:
        emit_json(stored.to_dict())
    else:
        print(f"saved {stored.name} ({stored.pattern}) to {stored.file}; run it with: agentstage graph-run "
              f"--workflow {stored.name} -- \"...\"")
    return ExitCode.OK


def remove_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.cli.common import stored_reader

    store = _store(args)
    reader = stored_reader(args)
    try:
        removed = store.remove(args.name, reader)
    finally:
        if reader is not None:
            reader.close()
    print(f"removed {removed.name} ({removed.file})")
    return ExitCode.OK
