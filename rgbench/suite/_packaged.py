"""The standard suites: the YAML files of the repository's ``suites/`` directory, installed as the
package ``rgbench.suites``, and the names that find them (`resolve_suite_path`), so that
``rgbench run smoke`` works from any directory and from an installed wheel.

A suite argument that is an existing path is that file. Otherwise a bare name is looked up among the
standard suites: a file stem (``smoke``, ``rg-paper``) or a declared name (the file's ``suite:`` key,
``rg-paper-v3``); an archived suite (``suites/archive/``) only as ``archive/STEM`` or
``archive/DECLARED`` (``archive/rg-paper-v1``), since archived suites reuse the current ones' names.
An unknown name is a `SuiteError` that lists the standard suites. Standard library and PyYAML only."""

from __future__ import annotations

import atexit
import contextlib
import importlib.resources
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ._problems import SuiteError
from ._yaml import Located

__all__ = ["ARCHIVE", "StandardSuite", "resolve_suite_path", "standard_suites", "suites_dir"]

ARCHIVE = "archive"  # the subdirectory (and name prefix) of the archived suites
_PACKAGE = "rgbench.suites"
# A suite name rather than a path: no directory part but an optional `archive/`, an optional .yaml suffix
_NAME = re.compile(rf"(?:{ARCHIVE}/)?[A-Za-z0-9][A-Za-z0-9._-]*")
_VERSION = re.compile(r"-(v\d+)$")


@dataclass(frozen=True)
class StandardSuite:
    """One standard suite file: its name (the file stem; ``archive/STEM`` when archived), its
    declared name (the ``suite:`` key, None if it has none), where it is, and whether it is archived."""

    name: str
    declared: str | None
    path: Path
    archived: bool

    @property
    def version(self) -> str | None:
        """The ``-vN`` suffix of the declared name (``v3`` for rg-paper-v3), or None."""
        m = _VERSION.search(self.declared or "")
        return m.group(1) if m else None


def suites_dir() -> Path | None:
    """The directory of the standard suites on this file system: the package ``rgbench.suites`` (a
    wheel's ``site-packages/rgbench/suites``, or ``suites/`` itself for an editable install); a source
    tree on the path without that package (PYTHONPATH, an editable install made before the suites
    were packaged): its ``suites/``; None when neither is there."""
    return _suites_dir()


@cache
def _suites_dir() -> Path | None:
    try:
        files = importlib.resources.files(_PACKAGE)
    except ModuleNotFoundError:
        checkout = Path(__file__).resolve().parents[2] / "suites"
        return checkout if (checkout / "__init__.py").is_file() else None
    if isinstance(files, Path):
        return files
    # not a directory (a zipped install): a copy on disk, so that a suite's `include:` resolves
    stack = contextlib.ExitStack()
    try:
        path = stack.enter_context(importlib.resources.as_file(files))
    except OSError:  # a directory cannot be copied out before Python 3.12
        stack.close()
        return None
    atexit.register(stack.close)
    return path


def _declared(path: Path) -> str | None:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    name = data.get("suite") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


@cache
def _standard_suites(root: Path | None) -> tuple[StandardSuite, ...]:
    if root is None:
        return ()
    found = []
    for archived, folder in ((False, root), (True, root / ARCHIVE)):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            name = f"{ARCHIVE}/{path.stem}" if archived else path.stem
            found.append(StandardSuite(name, _declared(path), path, archived))
    return tuple(found)


def standard_suites(*, archived: bool = True) -> tuple[StandardSuite, ...]:
    """The standard suites, the current ones first (each group by file name); `archived`: with the archived ones."""
    return tuple(s for s in _standard_suites(suites_dir()) if archived or not s.archived)


def _lookup(name: str, suites: tuple[StandardSuite, ...]) -> StandardSuite | None:
    """The suite `name` names among `suites`: by file name first, then by declared name."""
    name = name.removesuffix(".yaml")
    for s in suites:
        if s.name == name:
            return s
    prefix = f"{ARCHIVE}/" if name.startswith(f"{ARCHIVE}/") else ""
    for s in suites:
        if s.archived == bool(prefix) and s.declared is not None and prefix + s.declared == name:
            return s
    return None


def _unknown(name: str, suites: tuple[StandardSuite, ...]) -> str:
    if not suites:
        return "no such file, and the standard suites are not installed here (no package rgbench.suites)"
    listing = ", ".join(
        s.name + (f" ({s.declared})" if s.declared and s.declared != s.name else "") for s in suites if not s.archived
    )
    archived = None if name.startswith(f"{ARCHIVE}/") else _lookup(f"{ARCHIVE}/{name}", suites)
    hint = f" (did you mean {archived.name}?)" if archived is not None else ""
    return (
        f"no such file, and no standard suite of that name{hint}; the standard suites, by file name or by the "
        f"name they declare: {listing}; archived ones as archive/NAME (`rgbench suites --all` lists every one)"
    )


def resolve_suite_path(suite: str | os.PathLike) -> Path:
    """The suite file `suite` names: an existing path (it always wins), else a standard suite's
    name (see the module), else the path as given when it is no bare name (reading it reports it
    missing). Raises SuiteError, listing the standard suites, for a bare name that names none."""
    path = Path(suite)
    if not isinstance(suite, str) or not _NAME.fullmatch(suite) or path.exists() or path.is_symlink():
        return path
    suites = standard_suites()
    found = _lookup(suite, suites)
    if found is None:
        raise SuiteError([Located(suite, None, "", _unknown(suite, suites))])
    return found.path
