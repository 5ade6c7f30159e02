"""CLI verbs; each module contributes a `register(subparsers)` function listed here."""

from agentstage.runtime.cli import distributed, runtime_ops, ui
from agentstage.runtime.cli import graph, orchestrations, workflows
from agentstage.runtime.cli import docs, eval_records, evals, prompts, run, runs, schedules, skills, state, tools

COMMANDS = [run.register, runs.register, graph.register, workflows.register, orchestrations.register,
            distributed.register, runtime_ops.register, ui.register, state.register, tools.register,
            docs.register, evals.register, eval_records.register, schedules.register, prompts.register,
            skills.register]

__all__ = ["COMMANDS"]
