"""Log sinks for CLI and service processes (library code never configures logging)."""

from __future__ import annotations

import json as jsonlib
import logging
import sys
import traceback
from typing import Any

from agentstage.runtime._log import logger
from agentstage.runtime.errors import ConfigError

__all__ = ["FORMATS", "configure_logging", "human_format"]

_PACKAGES = ("agentstage.actors", "agentstage.runtime", "agentstage.api")
FORMATS = ("auto", "text", "json")


class _InterceptHandler(logging.Handler):
    """Send stdlib records (pykka, httpx, redis, falcon) to loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def human_format(record: dict[str, Any]) -> str:
    """`HH:MM:SS.mmm LEVEL   message  run=ID key=value` for a terminal; the run id first among the extras."""
    extra = dict(record["extra"])
    fields = [f"run={extra.pop('run_id')}"] if extra.get("run_id") else []
    fields += [f"{key}={value}" for key, value in extra.items() if key != "run_id"]
    record["extra"]["_fields"] = ("  " + " ".join(fields)) if fields else ""
    return "{time:HH:mm:ss.SSS} {level: <7} {message}{extra[_fields]}\n{exception}"


def _json_line(message: Any) -> None:
    """One flat JSON object per record: time, level, message, logger, the bound extras, the traceback."""
    record = message.record
    line = {"time": record["time"].isoformat(timespec="milliseconds"), "level": record["level"].name,
            "message": record["message"], "logger": record["name"], **record["extra"]}
    if record["exception"] is not None:
        kind, value, tb = record["exception"]
        line["exception"] = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(jsonlib.dumps(line, ensure_ascii=False, default=str) + "\n")
    sys.stderr.flush()


def configure_logging(level: str = "INFO", *, json: bool | None = None, log_format: str = "auto") -> None:
    """Log to stderr at `level`: text lines on a terminal, JSON lines otherwise, unless `log_format`
    (or `json`) says which. Raises ConfigError for an unknown format."""
    if log_format not in FORMATS:
        raise ConfigError("AGENTSTAGE_LOG_FORMAT", log_format, f"expected one of {', '.join(FORMATS)}")
    if json is None:
        json = {"text": False, "json": True}.get(log_format, not sys.stderr.isatty())
    logger.remove()
    if json:
        logger.add(_json_line, level=level.upper(), format="{message}", diagnose=False, backtrace=False)
    else:
        logger.add(sys.stderr, level=level.upper(), format=human_format, diagnose=False, backtrace=False)
    for name in _PACKAGES:
        logger.enable(name)
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.WARNING, force=True)
