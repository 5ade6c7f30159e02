"""`agentstage tools list|bundles|expand|providers|guardrails|add-http`: the tool registry, bundles, the
selection grammar, the integration catalog, the guardrail catalog, and custom HTTP tools."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from agentstage.runtime.cli.common import ExitCode, add_config_flags, config_from_args, emit_json, fail
from agentstage.runtime.errors import AgentstageError, NotFound

__all__ = ["register"]


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser("tools", help="list tools and bundles, expand a selection, add custom HTTP tools",
                              description="The tools agents can select, their bundles and the integration catalog.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text, handler in (("list", "every tool: kind, availability, description", list_tools),
                                     ("bundles", "the bundles a selection can name with @", list_bundles),
                                     ("providers", "the integration providers and their credential fields",
                                      list_providers),
                                     ("guardrails", "the built-in guardrails (AGENTSTAGE_GUARDRAILS / --guardrails)",
                                      list_guardrails)):
        action = actions.add_parser(name, help=help_text)
        add_config_flags(action)
        action.add_argument("--json", action="store_true", help="print JSON")
        action.set_defaults(handler=handler)
    expand = actions.add_parser("expand", help="the tool names a selection gives",
                                epilog="example: agentstage tools expand '@default,@security,json_parser'")
    add_config_flags(expand)
    expand.add_argument("selection", help="names, @bundle and * separated by commas")
    expand.set_defaults(handler=expand_selection)
    add = actions.add_parser("add-http", help="create (or replace) a custom HTTP tool from a JSON spec file",
                             epilog="example: agentstage tools add-http ./examples/lookup.json")
    add_config_flags(add)
    add.add_argument("spec", help="JSON file: name, url, method, headers, secretHeaders, timeoutMs, jsonSchema")
    add.add_argument("--replace", action="store_true", help="replace a custom tool of the same name")
    add.set_defaults(handler=add_http)


def list_tools(args: argparse.Namespace) -> int:
    from agentstage.runtime.system import System

    with System(config_from_args(args)) as system:
        rows = system.catalog.tool_registry()
    if args.json:
        emit_json(rows)
        return ExitCode.OK
    for row in rows:
        mark = "" if row["available"] else "  (not available here)"
        print(f"{row['name']:<26} {row['kind']:<9} {row['description'][:70]}{mark}")
    return ExitCode.OK


def list_bundles(args: argparse.Namespace) -> int:
    from agentstage.runtime.system import System

    with System(config_from_args(args)) as system:
        rows = system.catalog.bundles()
    if args.json:
        emit_json(rows)
    else:
        for row in rows:
            print(f"@{row['name']:<12} {', '.join(row['tools'])}")
    return ExitCode.OK


def list_guardrails(args: argparse.Namespace) -> int:
    from agentstage.runtime.guardrails import catalog as guardrail_catalog

    rows = guardrail_catalog()
    if args.json:
        emit_json(rows)
    else:
        for row in rows:
            value = "=VALUE" if row["configurable"] else ""
            print(f"{row['name'] + value:<20} {row['direction']:<7} {row['default_action']:<7} {row['description']}")
    return ExitCode.OK


def list_providers(args: argparse.Namespace) -> int:
    from agentstage.runtime.system import System

    with System(config_from_args(args)) as system:
        rows = system.catalog.providers()
    if args.json:
        emit_json(rows)
    else:
        for row in rows:
            mark = "" if row["available"] else f"  (not available: {row['unavailable_reason']})"
            print(f"{row['name']:<13} {', '.join(row['capabilities']):<28} needs {', '.join(row['credential_fields']) or '-'}"
                  f"{mark}")
    return ExitCode.OK


def expand_selection(args: argparse.Namespace) -> int:
    from agentstage.runtime.system import System

    with System(config_from_args(args)) as system:
        try:
            names = system.tools.expand(args.selection)
        except NotFound as exc:
            return fail(f"unknown {exc.kind} {exc.key!r} in the selection", ExitCode.USAGE)
    print(",".join(names))
    return ExitCode.OK


def add_http(args: argparse.Namespace) -> int:
    from agentstage.runtime.system import System

    try:
        spec = json.loads(Path(args.spec).read_text())
    except (OSError, ValueError) as exc:
        return fail(f"cannot read {args.spec}: {exc}", ExitCode.USAGE)
    with System(config_from_args(args)) as system:
        try:
            if args.replace and isinstance(spec, dict) and spec.get("name") in {
                    t["name"] for t in system.catalog.custom_tools()}:
                created = system.catalog.update_custom_tool(spec["name"], spec)
            else:
                created = system.catalog.create_custom_tool(spec)
        except AgentstageError as exc:
            return fail(f"tool spec {args.spec}: {exc}", ExitCode.USAGE)
    print(f"custom tool {created['name']} saved ({created['method']} {created['url']})")
    return ExitCode.OK
