"""The System facade: one process's runtime — agents, graph runs, delegation between agents, and the
runs a dead process left behind — over the actors, the store and the building blocks.

    from agentstage.runtime.system import System
"""

from agentstage.runtime.system.facade import RunHandle, System

# NOTE: the public home of these classes (help(), reprs, pickles) is this package, not the module they live in.
System.__module__ = RunHandle.__module__ = __name__

__all__ = ["RunHandle", "System"]
