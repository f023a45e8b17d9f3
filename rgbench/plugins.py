"""Architectures, inputs, observables and tests from other packages — never from a suite file.

Two ways in, both chosen by the user, not by a suite (a suite is data and names only ``kind``s):

* **Installed packages.** A distribution declares, in its ``pyproject.toml``::

      [project.entry-points."rgbench.components"]
      gmlp = "rgbench_gmlp"          # a module whose import registers its kinds

  and every rgbench process — the CLI, ``--workers`` processes, dask workers — imports every such
  entry point (`load_entry_points`) before it builds the suite models.
* **One run's code.** ``rgbench run|validate|show|score|leaderboard|plot --plugin MODULE_OR_PATH``
  (repeatable) imports a module by name, a ``.py`` file or a package directory (`load_plugin`); the
  runner hands the same list to its worker processes.

Registrations made while a plugin is imported are attributed to it (`rgbench.registry.Source`:
the distribution and its version; for a ``--plugin`` path, its file or package name and a hash of
its source files), so ``rgbench list`` says where each kind comes from, two packages registering one kind is an
error naming both, and a case whose architecture or input comes from a plugin records the plugin's
version in its provenance and its hash — results of a changed plugin are never mixed with old ones.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata as md
import importlib.util
import sys
from pathlib import Path

from .registry import Source, registering_as

__all__ = ["ENTRY_POINT_GROUP", "PluginError", "load_entry_points", "load_plugin", "load_plugins", "loaded_plugins"]

ENTRY_POINT_GROUP = "rgbench.components"

_ENTRY_POINTS_LOADED = [False]
_LOADED: dict[str, Source] = {}  # --plugin spec (as given) → its source


class PluginError(Exception):
    """A plugin that cannot be imported, or imports with an error (the message names it and says why)."""


def _failure(what: str, exc: BaseException) -> PluginError:
    detail = f"{type(exc).__name__}: {exc}".strip()
    return PluginError(f"{what} failed to import: {detail} — fix or uninstall it (`pip uninstall`), or run without it")


def load_entry_points() -> list[Source]:
    """Import every ``rgbench.components`` entry point of the installed distributions (once per process)."""
    if _ENTRY_POINTS_LOADED[0]:
        return []
    _ENTRY_POINTS_LOADED[0] = True
    sources = []
    for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.dist.name if e.dist else "", e.name)):
        dist = ep.dist.name if ep.dist is not None else "?"
        version = ep.dist.version if ep.dist is not None else "?"
        source = Source(dist, version, f"{ep.name} = {ep.value}")
        try:
            with registering_as(source):
                ep.load()
        except Exception as exc:  # re-raised as a PluginError: any import error becomes a clear message
            _ENTRY_POINTS_LOADED[0] = False  # a later fixed install is picked up
            raise _failure(f"plugin entry point {ep.name!r} ({ep.value}) of distribution {dist} {version}", exc) from exc
        sources.append(source)
    return sources


def _files_hash(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def _version_of_module(name: str, module) -> str:
    """The installed distribution's version when the module belongs to one, else a hash of its source."""
    top = name.split(".")[0]
    for dist in md.packages_distributions().get(top, []):
        try:
            return md.version(dist)
        except md.PackageNotFoundError:  # pragma: no cover - a broken install
            continue
    files = [Path(module.__file__)] if getattr(module, "__file__", None) else []
    if files and files[0].name == "__init__.py":
        files = list(files[0].parent.rglob("*.py"))
    return f"source {_files_hash(files)}" if files else "unversioned"


def load_plugin(spec: str) -> Source:
    """Import one ``--plugin``: a module name, a ``.py`` file, or a package directory. Idempotent."""
    if spec in _LOADED:
        return _LOADED[spec]
    path = Path(spec)
    if path.suffix == ".py" or path.is_dir() or "/" in spec or "\\" in spec:
        source = _load_path(spec, path)
    else:
        source = Source(f"--plugin {spec}", "?")
        try:
            with registering_as(source):
                module = importlib.import_module(spec)
        except Exception as exc:  # re-raised: whatever the user's module raises becomes a clear message
            raise _failure(f"--plugin {spec!r}", exc) from exc
        source = Source(f"--plugin {spec}", _version_of_module(spec, module))
        _reattribute(Source(f"--plugin {spec}", "?"), source)
    _LOADED[spec] = source
    return source


def _load_path(spec: str, path: Path) -> Source:
    if path.is_dir():
        init = path / "__init__.py"
        if not init.is_file():
            raise PluginError(f"--plugin {spec!r} is a directory without __init__.py; name a package directory or a .py file")
        files, target, search = list(path.rglob("*.py")), init, [str(path)]
    elif path.is_file():
        files, target, search = [path], path, None
    else:
        raise PluginError(f"--plugin {spec!r}: no such file or directory")
    resolved = path.resolve()
    name = f"rgbench_plugin_{resolved.stem}_{hashlib.sha256(str(resolved).encode()).hexdigest()[:8]}"
    # Identity is the file or package name and the hash of its sources, not the path as spelled:
    # `--plugin ./toy.py` and `--plugin /abs/toy.py` are the same plugin, an edited toy.py is not.
    source = Source(f"--plugin {resolved.name}", f"source {_files_hash(files)}")
    module_spec = importlib.util.spec_from_file_location(name, target, submodule_search_locations=search)
    if module_spec is None or module_spec.loader is None:  # pragma: no cover - not a Python source
        raise PluginError(f"--plugin {spec!r} is not an importable Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        with registering_as(source):
            module_spec.loader.exec_module(module)
    except Exception as exc:  # re-raised: whatever the user's file raises becomes a clear message
        sys.modules.pop(name, None)
        raise _failure(f"--plugin {spec!r}", exc) from exc
    return source


def _reattribute(provisional: Source, final: Source) -> None:
    """Kinds registered under a provisional source (a module's version is known only after its import)."""
    from .registry import ARCHITECTURES, INPUTS, OBSERVABLES, TESTS

    for registry in (ARCHITECTURES, INPUTS, OBSERVABLES, TESTS):
        registry.reattribute(provisional, final)


def load_plugins(specs: list[str] | tuple[str, ...]) -> list[Source]:
    """`load_plugin` for each spec, in order."""
    return [load_plugin(s) for s in specs]


def loaded_plugins() -> list[str]:
    """The ``--plugin`` specs this process has loaded (handed on to worker processes)."""
    return list(_LOADED)
