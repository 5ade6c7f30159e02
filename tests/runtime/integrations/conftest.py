"""Fixtures of the integration tests: a local HTTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentstage.runtime import Config
from tests.local_http import LocalHTTP


@pytest.fixture
def http() -> Iterator[LocalHTTP]:
    with LocalHTTP() as server:
        yield server


@pytest.fixture
def config(config: Config) -> Config:
    """The suite's config, with the credential variables these tests reference allowed."""
    return config.replace(credential_env="HOOK_TOKEN,PD_KEY")
