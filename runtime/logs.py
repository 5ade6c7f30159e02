"""Log sinks for CLI and service processes (library code never configures logging)."""

from __future__ import annotations

import logging
import sys

from loguru import logger

__all__ = ["configure_logging"]

_PACKAGES = ("agentstage.actors", "agentstage.runtime", "agentstage.api")


class _InterceptHandler(logging.Handler):
    """Send stdlib records (pykka, httpx, redis, falcon) to loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def configure_logging(level: str = "INFO", *, json: bool | None = None) -> None:
    """Log to stderr at `level`: JSON lines when stderr is not a terminal (or `json=True`)."""
    logger.remove()
    serialize = (not sys.stderr.isatty()) if json is None else json
    logger.add(sys.stderr, level=level.upper(), serialize=serialize, diagnose=False, backtrace=False,
               format="{time:HH:mm:ss.SSS} {level: <7} {name}: {message} {extra}")
    for name in _PACKAGES:
        logger.enable(name)
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.WARNING, force=True)
