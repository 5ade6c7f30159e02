"""The public faces stay small and deliberate: `__all__` lists exactly the public names."""

import importlib

import pytest


@pytest.mark.parametrize("module", ["agentstage.runtime", "agentstage.actors", "agentstage.runtime.llm",
                                    "agentstage.runtime.tools", "agentstage.runtime.transport",
                                    "agentstage.runtime.evals", "agentstage.api"])
def test_all_lists_the_public_names(module: str) -> None:
    mod = importlib.import_module(module)
    public = {name for name in vars(mod) if not name.startswith("_")}
    public |= {name for name in mod.__all__ if name not in vars(mod) and getattr(mod, name, None) is not None}
    submodules = {name for name, value in vars(mod).items() if type(value).__name__ == "module"}
    assert set(mod.__all__) == public - submodules - {"logger"}
    assert list(mod.__all__) == sorted(mod.__all__, key=lambda n: (not n.isupper(), n))


def test_embedding_imports_from_the_agentstage_package() -> None:
    from agentstage.runtime import System

    assert System.__module__ == "agentstage.runtime.system"
