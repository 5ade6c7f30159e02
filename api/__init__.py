"""agentstage HTTP API (Falcon): the DevUI's runs, sessions, events and runtime operations."""

from loguru import logger

from agentstage.api.app import create_app, get_app

logger.disable("agentstage.api")

__all__ = ["create_app", "get_app"]
