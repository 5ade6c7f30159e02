"""The runtime's loguru logger, silent for `agentstage.runtime` until a process configures sinks (`runtime.logs`).

Runtime modules import `logger` from here rather than from loguru, so the package itself
imports loguru only once a module that logs is loaded.
"""

from loguru import logger

logger.disable("agentstage.runtime")

__all__ = ["logger"]
