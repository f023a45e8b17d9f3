"""Module mechanics shared by the package: lazy re-exports and modules that are also functions.

The bottom of the house: imports nothing of rgbench.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable

__all__ = ["callable_module", "lazy_exports"]


def lazy_exports(
    package: str, table: dict[str, tuple[str, ...]]
) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """`__getattr__`, `__dir__` and the lazy names for a package whose `table` maps a submodule
    (``"_markov"``) to the names it exports: a name's submodule is imported on first access (PEP 562),
    so importing the package costs only what it imports eagerly (its configs, never JAX)."""
    where = {name: module for module, names in table.items() for name in names}

    def __getattr__(name: str):
        if name in where:
            return getattr(importlib.import_module(f".{where[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__, list(where)


def callable_module(module: str, function: str) -> None:
    """Make `module` callable as its own `function` (``rgbench.score(store)`` beside ``rgbench.score.<name>``).

    The package exports the function under the module's name, and Python sets the package attribute
    to the submodule once it is imported; a callable module lets both spellings mean what they say."""

    class CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return getattr(self, function)(*args, **kwargs)

    sys.modules[module].__class__ = CallableModule
