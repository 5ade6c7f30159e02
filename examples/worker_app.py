"""A worker application: one Python tool and an agent using it (`agentstage worker-start --app worker_app`)."""

import enum

from agentstage.runtime import AgentSpec, Config, tool
from agentstage.runtime.distributed import WorkerSetup
from agentstage.runtime.llm.scripted import Rule, ScriptedProvider, default_rules
from agentstage.runtime.tools.builtin import builtin_registry
from agentstage.runtime.tools.context import ToolContext


class Unit(enum.Enum):
    WORDS = "words"
    CHARACTERS = "characters"


@tool
def count(text: str, unit: Unit = Unit.WORDS, distinct: bool = False) -> dict:
    """Count the words or characters of a text.

    Args:
        text: the text to count.
        unit: what to count.
        distinct: count each distinct item once.
    """
    items = text.split() if unit is Unit.WORDS else list(text)
    return {"count": len(set(items)) if distinct else len(items), "unit": unit.value}


def setup() -> WorkerSetup:
    """The built-in tools plus `count`, and a `counter` agent the offline provider drives to call it."""
    config = Config.from_env()
    tools = builtin_registry(ToolContext.from_config(config))
    tools.register(count)
    rules = [Rule("count", r"^count (.+)", tool="count", arguments={"text": "{1}"}), *default_rules()]
    counter = AgentSpec.from_config(config, name="counter", tools=("count", "@default"))
    return WorkerSetup(agents=[counter], tools=tools, providers={"counter": ScriptedProvider(rules)})
