"""agentstage HTTP API (Falcon): the DevUI's runs, sessions, events and runtime operations."""

from loguru import logger

logger.disable("agentstage.api")
