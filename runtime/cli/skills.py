"""`agentstage skills list|show`: the SKILL.md skills of AGENTSTAGE_SKILL_DIRS and the built-ins."""

from __future__ import annotations

import argparse
from typing import Any

from agentstage.runtime.cli.common import ExitCode, add_config_flags, config_from_args, emit_json

__all__ = ["register"]


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser("skills", help="SKILL.md skills: list, show",
                              description="Skills are folders with a SKILL.md in AGENTSTAGE_SKILL_DIRS (default: "
                                          "./skills, ./.github/skills, ./.agents/skills, $AGENTSTAGE_HOME/skills) "
                                          "and a few built-ins; nothing is installed from the network.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every skill with where it comes from",
                                 epilog="example: agentstage skills list")
    listing.set_defaults(handler=list_command)
    show = actions.add_parser("show", help="one skill with its instructions", epilog="example: agentstage skills "
                                                                                       "show code-audit")
    show.add_argument("name")
    show.set_defaults(handler=show_command)
    for action in (listing, show):
        add_config_flags(action, "skill_dirs")
        action.add_argument("--json", action="store_true", help="print JSON")


def _registry(args: argparse.Namespace) -> Any:
    from agentstage.runtime.skills import SkillRegistry, skill_dirs

    return SkillRegistry(skill_dirs(config_from_args(args)))


def list_command(args: argparse.Namespace) -> int:
    skills = _registry(args).all()
    if args.json:
        emit_json([skill.summary() for skill in skills])
        return ExitCode.OK
    for skill in skills:
        print(f"{skill.name:<24} {skill.source:<8} {skill.description}")
    return ExitCode.OK


def show_command(args: argparse.Namespace) -> int:
    skill = _registry(args).get(args.name)
    if args.json:
        emit_json(skill.to_dict())
        return ExitCode.OK
    print(f"{skill.name}: {skill.description}")
    print(f"tools: {', '.join(skill.allowed_tools) or '-'}  source: {skill.path or skill.source}")
    print(skill.instructions)
    return ExitCode.OK
