"""Reading suite files: each file's raw tree (safe YAML, with the line of every key), its includes
(each file read once; cycles refused), and the structure of its top-level keys, before any merging."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._problems import unknown_key
from ._schema import _DEFAULT_KEYS, _TOP_KEYS, MAX_FILES, MAX_ID_BYTES, MULTIPLICITY_METHODS, _valid_id
from ._yaml import Located, YamlProblem, file_problem
from ._yaml import load as load_yaml


@dataclass
class _Source:
    """Raw data of one file plus where its keys are."""

    file: str
    data: dict[str, Any]
    lines: dict[tuple, int]


@dataclass
class _RawCase:
    data: dict[str, Any]
    source: _Source
    path: tuple  # path of the case mapping in its file, e.g. ("cases", 3)


@dataclass
class _Raw:
    name: str | None = None
    title: str = ""
    description: str = ""
    alpha: float = 0.05
    multiplicity: str = "holm"
    defaults: list[tuple[dict[str, Any], _Source]] = field(default_factory=list)  # lowest priority first
    nulls: dict[str, tuple[Any, _Source]] = field(default_factory=dict)  # set name → (refs, where defined)
    cases: list[_RawCase] = field(default_factory=list)
    files: set[Path] = field(default_factory=set)  # every file read (resolved): each is read once
    too_many_files: bool = False  # MAX_FILES reached and reported


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
        return path.absolute()


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # elsewhere, or a symlink loop
        return str(path)


def _read(path: Path, stack: tuple[Path, ...], problems: list[Located], raw: _Raw, top: bool) -> None:
    """Read the suite file `path` into `raw`: its includes first (depth first, each file once), then
    its name, title and description (`top`: the suite itself), defaults, null sets and cases."""
    display = _display(path)
    here = _resolved(path)
    raw.files.add(here)
    try:
        data, lines, yaml_problems = load_yaml(path, display)
    except YamlProblem as e:
        problems.extend(e.problems)
        return
    problems.extend(yaml_problems)
    src = _Source(display, data if isinstance(data, dict) else {}, lines)
    if not isinstance(data, dict):
        problems.append(
            Located(display, 1, "", f"a suite file must be a mapping with keys {', '.join(_TOP_KEYS)}; got {type(data).__name__}")
        )
        return
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(Located(display, lines.get((key,)), key, unknown_key(key, _TOP_KEYS)))

    for i, inc in enumerate(_includes(src, problems)):
        where = (display, lines.get(("include", i), lines.get(("include",))), f"include[{i}]")
        target = _include_target(path, inc, (*stack, here), raw, where, problems)
        if target is not None:
            _read(target, (*stack, here), problems, raw, top=False)

    if top:
        _read_header(src, problems, raw)
    _read_defaults(src, problems, raw)
    _read_null_sets(src, problems, raw)
    _read_cases(src, problems, raw)


def _includes(src: _Source, problems: list[Located]) -> list:
    """The paths a file's `include:` names (a single path is a list of one)."""
    includes = src.data.get("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        problems.append(
            Located(src.file, src.lines.get(("include",)), "include", f"must be a list of relative file paths; got {includes!r}")
        )
        includes = []
    return includes


def _include_target(
    path: Path, inc: str, chain: tuple[Path, ...], raw: _Raw, where: tuple[str, int | None, str], problems: list[Located]
) -> Path | None:
    """The file that `path` includes as `inc`, or None when it is not to be read: already read (files
    including a common one, a diamond, read it once), or refused with a problem located at `where`
    (file, line, key): unresolvable, a cycle through `chain` (the including files, `path` last),
    missing, not a readable regular file, or one file more than MAX_FILES (reported once)."""
    display, line, key = where
    try:
        target = (path.parent / inc).resolve()
    except (OSError, RuntimeError) as e:  # a symlink loop (RuntimeError before Python 3.13)
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        if isinstance(e, RuntimeError) and "loop" in reason.lower():
            reason = f"a symbolic link loop ({reason})"
        problems.append(Located(display, line, key, f"included file {inc!r} cannot be resolved: {reason}"))
        return None
    if target in chain:
        problems.append(Located(display, line, key, f"include cycle: {' → '.join(_display(p) for p in (*chain, target))}"))
        return None
    if target in raw.files:  # read once: files including a common one (a diamond) do not read it again
        return None
    if not target.exists() and not target.is_symlink():
        problems.append(Located(display, line, key, f"included file {inc!r} not found (looked at {target})"))
        return None
    problem = file_problem(target)  # from os.stat alone: a FIFO or a directory is never opened
    if problem is not None:
        problems.append(Located(display, line, key, f"included file {inc!r} {problem} (at {target})"))
        return None
    if len(raw.files) >= MAX_FILES:
        if not raw.too_many_files:
            raw.too_many_files = True
            problems.append(
                Located(
                    display,
                    line,
                    key,
                    f"includes read more than {MAX_FILES} suite files; a suite may read at most "
                    f"{MAX_FILES} (each file is read once, however often it is included)",
                )
            )
        return None
    return target


def _read_header(src: _Source, problems: list[Located], raw: _Raw) -> None:
    """The suite's own name, title and description (an included file's are not read)."""
    data, display, lines = src.data, src.file, src.lines
    name = data.get("suite")
    if name is None:
        problems.append(Located(display, 1, "suite", "required key missing: the suite's identifier, e.g. `suite: rg-paper`"))
    elif not isinstance(name, str) or not _valid_id(name):
        problems.append(
            Located(
                display,
                lines.get(("suite",)),
                "suite",
                f"must be an identifier of letters, digits, '-', '_', '.'; got {name!r}",
            )
        )
    elif len(name) > MAX_ID_BYTES:
        problems.append(
            Located(
                display,
                lines.get(("suite",)),
                "suite",
                f"is {len(name)} characters long; a suite name names its store directory and may "
                f"have at most {MAX_ID_BYTES}: shorten it",
            )
        )
    else:
        raw.name = name
    for key in ("title", "description"):
        if key in data and not isinstance(data[key], str):
            problems.append(Located(display, lines.get((key,)), key, f"must be a string; got {data[key]!r}"))
    raw.title = data.get("title", "") if isinstance(data.get("title"), str) else ""
    raw.description = data.get("description", "") if isinstance(data.get("description"), str) else ""
    _read_levels(data, display, lines, problems, raw)


def _read_levels(data: dict, display: str, lines: dict, problems: list[Located], raw: _Raw) -> None:
    """The suite's `alpha` and `multiplicity` (strict: a bool is not a number, a string not a level)."""
    if "alpha" in data:
        alpha = data["alpha"]
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha <= 0.5:
            problems.append(
                Located(
                    display, lines.get(("alpha",)), "alpha", f"must be a number with 0 < alpha ≤ 0.5, e.g. 0.05; got {alpha!r}"
                )
            )
        else:
            raw.alpha = float(alpha)
    if "multiplicity" in data:
        method = data["multiplicity"]
        if method not in MULTIPLICITY_METHODS:
            problems.append(
                Located(
                    display,
                    lines.get(("multiplicity",)),
                    "multiplicity",
                    f"must be one of {', '.join(MULTIPLICITY_METHODS)}; got {method!r}",
                )
            )
        else:
            raw.multiplicity = method


def _read_defaults(src: _Source, problems: list[Located], raw: _Raw) -> None:
    """A file's `defaults:` (the keys a case may set), above those of the files it includes."""
    defaults, display, lines = src.data.get("defaults", {}), src.file, src.lines
    if not isinstance(defaults, dict):
        problems.append(Located(display, lines.get(("defaults",)), "defaults", f"must be a mapping; got {defaults!r}"))
        return
    for key in defaults:
        if key not in _DEFAULT_KEYS:
            problems.append(Located(display, lines.get(("defaults", key)), f"defaults.{key}", unknown_key(key, _DEFAULT_KEYS)))
    raw.defaults.append(({k: v for k, v in defaults.items() if k in _DEFAULT_KEYS}, src))


def _read_null_sets(src: _Source, problems: list[Located], raw: _Raw) -> None:
    """A file's named null sets (`nulls:`); the including file's definition wins over an included one's."""
    null_sets, display, lines = src.data.get("nulls", {}), src.file, src.lines
    if not isinstance(null_sets, dict):
        problems.append(
            Located(
                display, lines.get(("nulls",)), "nulls", f"must be a mapping of set names to lists of nulls; got {null_sets!r}"
            )
        )
        return
    for name, refs in null_sets.items():
        where = lines.get(("nulls", name))
        if not isinstance(name, str) or not _valid_id(name):
            problems.append(
                Located(
                    display,
                    where,
                    f"nulls.{name}",
                    f"a null set's name must be an identifier of letters, digits, '-', '_', '.'; got {name!r}",
                )
            )
        elif not isinstance(refs, (list, str)):
            problems.append(
                Located(
                    display,
                    where,
                    f"nulls.{name}",
                    f"must be a list of nulls (case ids, {{stage: init}}, {{case: ..., stage: ...}}); got {refs!r}",
                )
            )
        else:
            raw.nulls[name] = (refs, src)  # the including file's definition wins over an included one's


def _read_cases(src: _Source, problems: list[Located], raw: _Raw) -> None:
    """A file's cases, as raw mappings (merged with the defaults and expanded later)."""
    cases, display, lines = src.data.get("cases", []), src.file, src.lines
    if not isinstance(cases, list):
        problems.append(Located(display, lines.get(("cases",)), "cases", f"must be a list of cases; got {cases!r}"))
        cases = []
    for i, case in enumerate(cases):
        if not isinstance(case, dict):
            problems.append(
                Located(display, lines.get(("cases", i)), f"cases[{i}]", f"a case must be a mapping with an `id`; got {case!r}")
            )
            continue
        raw.cases.append(_RawCase(case, src, ("cases", i)))
