"""Lazy package exports: a name's module is imported on first read, and the name then stays put."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from agentstage.runtime.lazy import lazy_exports

_PROBE = """
import json, sys
import agentstage.runtime.llm as llm
before = "httpx" in sys.modules
provider = llm.OpenAIProvider
print(json.dumps([before, "httpx" in sys.modules, "OpenAIProvider" in vars(llm)]))
"""


def test_a_package_imports_a_provider_module_only_when_it_is_read() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == [False, True, True]


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    getter = lazy_exports("agentstage.runtime", {})
    with pytest.raises(AttributeError, match="'agentstage.runtime' has no attribute 'nope'"):
        getter("nope")


def test_from_import_of_every_public_name_resolves() -> None:
    import importlib

    for package in ("agentstage.runtime", "agentstage.runtime.llm", "agentstage.runtime.state",
                    "agentstage.runtime.transport", "agentstage.runtime.tools", "agentstage.runtime.workflow",
                    "agentstage.runtime.guardrails", "agentstage.runtime.graph", "agentstage.runtime.retrieval",
                    "agentstage.runtime.evals", "agentstage.runtime.integrations", "agentstage.runtime.distributed",
                    "agentstage.runtime.secops"):
        module = importlib.import_module(package)
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{package}.{name}"
