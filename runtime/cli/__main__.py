"""`python -m agentstage.runtime.cli`: the same as the `agentstage` command."""

from agentstage.runtime.cli.main import console

console()
