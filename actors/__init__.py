"""agentstage actors: pykka actors exchanging the messages of `agentstage.runtime.wire`."""

from loguru import logger

from agentstage.actors.agent import AgentActor, StartRun
from agentstage.runtime.wire import RunAgent, RunResult, from_wire, to_wire
from agentstage.actors.observer import ObserverActor, Subscription
from agentstage.actors.pool import AgentPool
from agentstage.actors.store import StoreActor, Write
from agentstage.actors.supervision import Slot, SupervisedActor

logger.disable("agentstage.actors")

__all__ = [
    "AgentActor",
    "AgentPool",
    "ObserverActor",
    "RunAgent",
    "RunResult",
    "Slot",
    "StartRun",
    "StoreActor",
    "Subscription",
    "SupervisedActor",
    "Write",
    "from_wire",
    "to_wire",
]
