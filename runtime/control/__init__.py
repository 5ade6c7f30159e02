"""Run control: one way to start and steer runs, local (the embedded System) or queued (coordinator + workers).

    from agentstage.runtime.control import run_control

    control = run_control(system, distributed=False)   # chosen once
    started = control.start("what is 6 * 7?")
    control.cancel(started.run_id)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentstage.runtime.control.base import RunControl, Started, Steered
from agentstage.runtime.control.local import LocalControl
from agentstage.runtime.control.queued import QueuedControl

if TYPE_CHECKING:
    from agentstage.runtime.system import System

__all__ = ["LocalControl", "QueuedControl", "RunControl", "Started", "Steered", "run_control"]


def run_control(system: System, *, distributed: bool = False) -> RunControl:
    """The run control of `system`: queued on the Redis runtime of its config when `distributed`, else local.

    Raises StoreError for a malformed Redis URL.
    """
    if not distributed:
        return LocalControl(system)
    from agentstage.runtime.distributed.ops import RuntimeOps

    return QueuedControl(system, RuntimeOps(system.config))
