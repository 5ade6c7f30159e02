"""Worker setup for the distributed secops test: the built-in tools and the secops agent with the echo provider."""

from __future__ import annotations

from agentstage.runtime.config import Config
from agentstage.runtime.distributed.node import WorkerSetup
from agentstage.runtime.llm.scripted import Rule, ScriptedProvider
from agentstage.runtime.secops import workflow as secops
from agentstage.runtime.tools.builtin import builtin_registry
from agentstage.runtime.workflow import default_registry


def setup() -> WorkerSetup:
    tools, workflows = builtin_registry(), default_registry()
    secops.register_app(workflows, tools)
    return WorkerSetup(agents=[secops.agent_spec(Config.from_env({}, dotenv=None))], tools=tools, workflows=workflows,
                       providers={secops.AGENT: ScriptedProvider([Rule("echo", r"^", reply="ok:{prompt}")])})
