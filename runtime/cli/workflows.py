"""`agentstage workflows list|show`: the registered workflows and their graphs (Mermaid)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentstage.runtime.cli.common import ExitCode, add_config_flags, config_from_args, emit_json
from agentstage.runtime.cli.graph import report_graph_error

if TYPE_CHECKING:
    from agentstage.runtime.workflow.registry import WorkflowRegistry

__all__ = ["register", "workflow_registry"]


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "workflows", help="list workflows or show one as a Mermaid diagram",
        description="Built-in workflows plus the JSON files of the workflow directory (AGENTSTAGE_WORKFLOW_DIR).",
        epilog="examples:\n  agentstage workflows list\n  agentstage workflows show triage\n"
               "  agentstage workflows show ./examples/review.json --json")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every workflow with its source and node count")
    add_config_flags(listing, "workflow_dir")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=list_command)
    show = actions.add_parser("show", help="print a workflow's graph as Mermaid (or its JSON with --json)")
    add_config_flags(show, "workflow_dir")
    show.add_argument("name", help="workflow name or path to a workflow JSON file (validated)")
    show.add_argument("--json", action="store_true", help="print the workflow's JSON document")
    show.set_defaults(handler=show_command)


def workflow_registry(args: argparse.Namespace) -> WorkflowRegistry:
    """The workflows a System built from these settings has: built-ins, the secops app, the workflow directory."""
    from agentstage.runtime.system.graph_runs import workflow_dir
    from agentstage.runtime.secops.workflow import register_app
    from agentstage.runtime.workflow.builtin import default_registry

    registry = default_registry()
    register_app(registry)
    registry.load_dir(workflow_dir(config_from_args(args)))
    return registry


def list_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.graph.builder import GraphError

    registry = workflow_registry(args)
    rows = []
    for name in registry.names():
        try:
            graph = registry.get(name)
        except GraphError as exc:
            rows.append({"name": name, "source": registry.source_file(name) or "code", "valid": False,
                         "problems": exc.problems})
            continue
        rows.append({"name": name, "source": registry.source_file(name) or "built-in", "valid": True,
                     "nodes": len(graph.nodes), "description": graph.description})
    for name, problems in sorted(registry.invalid.items()):
        rows.append({"name": name, "source": registry.source_file(name), "valid": False, "problems": problems})
    if args.json:
        emit_json(rows)
        return ExitCode.OK
    for row in rows:
        if row["valid"]:
            print(f"{row['name']:<20} {row['nodes']:>3} nodes  {row['source']:<10} {row['description']}")
        else:
            print(f"{row['name']:<20} INVALID    {row['source']}: {'; '.join(row['problems'])}")
    return ExitCode.OK


def _document(graph: Any, source: str | None) -> Any:
    """The workflow's JSON document; for a file whose graph has no JSON form of its own (the reference DevUI's
    format is translated into Python steps), the file's document as written."""
    from agentstage.runtime.graph.builder import GraphError
    from agentstage.runtime.workflow.loader import dump_workflow

    try:
        return dump_workflow(graph)
    except GraphError:
        if source is None:
            raise
        return json.loads(Path(source).read_text(encoding="utf-8"))


def show_command(args: argparse.Namespace) -> int:
    from agentstage.runtime.graph.builder import GraphError
    from agentstage.runtime.workflow.loader import load_workflow_file

    try:
        if args.name.endswith(".json") or Path(args.name).is_file():
            graph, source = load_workflow_file(args.name), args.name
        else:
            registry = workflow_registry(args)
            graph = registry.get(args.name)
            source = registry.source_file(args.name)
        if args.json:
            emit_json(_document(graph, source))
        else:
            print(graph.mermaid())
    except GraphError as exc:
        return report_graph_error(exc)
    return ExitCode.OK
