"""Lazy exports: a package lists its public names up front and imports their modules on first use.

`agentstage --help` and an offline run would otherwise pay for every provider, transport and
server library at start; with this a name's module is imported the first time it is read.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` for `package` that imports `exports[name]` (a module path) on first access.

    The value found is stored in the package, so later reads are plain attribute reads.
    """
    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
