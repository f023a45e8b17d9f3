"""Suite files: YAML → validated, fully resolved cases, each with a stable hash.

A suite file has the top-level keys of `TOP_KEY_MEANINGS` (suite, title, description, include,
defaults, nulls, cases; each with its meaning there and in ``rgbench list suite``); a case has
``id``, optional ``architecture``, ``input``, ``train``, ``measure``, ``seeds``, ``seed_start``,
``predict`` and ``grid`` (``rgbench list case``).

Merging is a deep merge of mappings, the case winning over the defaults. When a case names a
different ``kind`` of architecture or input than the defaults, only the defaults that the new kind
also accepts are carried over (``vocab``, ``length``, ``masking`` survive a switch from ``sticky`` to
``iid``; ``xi`` does not).

``grid`` maps dotted keys to lists of values; a case with a grid expands into one case per
combination, with ids ``<id>[key=value,...]``.

Validation happens before anything runs and reports *every* problem of a file at once, each with the
file, line, dotted key, bad value and what is allowed (`SuiteError.problems`; pydantic's errors are
located by ``rgbench._spec_errors``).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Union

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from ._spec_errors import COMPONENT_SLOTS, case_problems, format_value, locate, shorthand, unknown_key, value_at
from ._version import DATA_FORMAT_VERSION
from ._yaml import MAX_FILE_BYTES, Located, YamlProblem, dotted, file_problem
from ._yaml import load as load_yaml
from ._yaml import loads as load_yaml_text
from .registry import ARCHITECTURES, INPUTS, OBSERVABLES, TESTS, Registry, closest, generation

__all__ = [
    "Case",
    "Suite",
    "SuiteError",
    "load_suite",
    "suite_from_json",
    "case_from_dict",
    "case_to_dict",
    "case_hash",
    "plugin_sources",
    "unknown_kinds",
    "MAX_CASES",
    "MAX_FILES",
    "MAX_ID_BYTES",
    "MAX_NULLS",
    "RESERVED_IDS",
]

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
_CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*(\[[^\]/]*\])?$"  # base id, then grid values
_CASE_KEYS = ("architecture", "input", "train", "measure", "seeds")  # the hash payload (and seed_start when set)
_DEFAULT_KEYS = (*_CASE_KEYS, "seed_start")  # what `defaults:` and a case may set besides id, predict, grid
# Bounded loading: what one suite may make rgbench read and hold, checked before it is materialised.
#: Cases once every grid is expanded (counted before any is built): a sweep beyond this is several suites.
MAX_CASES = 10_000
#: Files read through `include:`, the suite itself included (each file is read once).
MAX_FILES = 256
#: A case id (grid values included) and a suite name, in UTF-8 bytes: each names a directory of the
#: store, and the store adds its own prefixes and suffixes (``.<id>.new-<pid>``, lock files) within the
#: 255 bytes a file name may have.
MAX_ID_BYTES = 128
#: The nulls of one prediction once named null sets expand (sets may name sets).
MAX_NULLS = 256
#: Names the store uses itself, refused as case ids (compared case-insensitively: macOS and Windows
#: file systems are). Names beginning with '.' (``.locks``, swap directories) cannot be ids at all.
RESERVED_IDS = ("zarr.json",)
#: The top-level keys of a suite file: (type, default, meaning), for validation messages and `rgbench list`.
TOP_KEY_MEANINGS: dict[str, tuple[str, Any, str]] = {
    "suite": (
        "str",
        "(required)",
        f"identifier (letters, digits, -, _, .; at most {MAX_ID_BYTES} characters), the "
        "store's default name results/<suite>.zarr",
    ),
    "title": ("str", None, "one line for people"),
    "description": ("str", None, "a paragraph: what the suite tests and why"),
    "include": (
        "list[path]",
        [],
        "suite files (relative to this one) whose defaults, nulls and cases are merged in "
        "first; each file is read once (a file included again is skipped), cycles are an "
        f"error; at most {MAX_FILES} files in all, each a regular file of at most "
        f"{MAX_FILE_BYTES // 2**20} MiB",
    ),
    "defaults": (
        "partial case",
        {},
        "architecture, input, train, measure, seeds, seed_start merged into every case "
        "(the case wins; a switch of kind keeps only what the new kind accepts)",
    ),
    "nulls": (
        "mapping[name, list[null]]",
        {},
        "named null sets, e.g. untrained-or-iid: [{stage: init}, iid], that a prediction's nulls: may name",
    ),
    "cases": (
        "list[case]",
        "(required)",
        f"the cases (see case keys); at most {MAX_CASES} once every grid is expanded, counted before any case is built",
    ),
}
_TOP_KEYS = tuple(TOP_KEY_MEANINGS)


class SuiteError(Exception):
    """A suite that does not validate. `problems` holds every located problem found."""

    def __init__(self, problems: list[Located]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _load_components() -> None:
    # Importing these modules registers rgbench's components; the entry points, installed packages'.
    from . import inputs, models, predictions  # noqa: F401 - imported for what importing them registers
    from .plugins import load_entry_points

    load_entry_points()


def _union(registry: Registry):
    classes = [cls for _, cls in registry.items()]
    if len(classes) == 1:
        return classes[0]
    return Annotated[Union[tuple(classes)], Field(discriminator="kind")]


def models() -> tuple[type[BaseModel], type[BaseModel]]:
    """The pydantic models of a prediction and of a case, built from the registries.

    Rebuilt whenever a kind has been registered since the last call (a ``--plugin`` imported after
    the first suite was read is picked up, not refused)."""
    _load_components()
    return _models(generation())


@cache
def _models(registrations: int) -> tuple[type[BaseModel], type[BaseModel]]:
    from ._train_config import TrainConfig
    from .measure import MeasureConfig
    from .predictions import PredictionBase

    Prediction = pydantic.create_model(
        "Prediction",
        __base__=PredictionBase,
        observable=(Annotated[_union(OBSERVABLES), pydantic.BeforeValidator(shorthand)], ...),
        test=(_union(TESTS), ...),
    )

    class CaseSpec(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        id: str = Field(pattern=_CASE_ID_PATTERN, max_length=300)
        architecture: _union(ARCHITECTURES)  # type: ignore[valid-type]
        input: _union(INPUTS)  # type: ignore[valid-type]
        train: TrainConfig = Field(default_factory=TrainConfig)
        measure: MeasureConfig = Field(default_factory=MeasureConfig)
        seeds: int = Field(10, ge=1, le=1000, description="number of seeds, trained together (vmap)")
        seed_start: int = Field(
            0,
            ge=0,
            le=2**31 - 1000,
            description="first seed: the case runs seeds seed_start … seed_start + seeds − 1 "
            "(fresh seeds for a replication; cases compared by seed should share it)",
        )
        predict: list[Prediction] = Field(default_factory=list)  # type: ignore[valid-type]

    return Prediction, CaseSpec


def _kinds(tree: Any, registry: Registry, out: dict[str, str]) -> None:
    """Every registered kind named anywhere in `tree` (e.g. a shuffle's `of`), with the source it comes from."""
    if isinstance(tree, dict):
        kind = tree.get("kind")
        if isinstance(kind, str) and kind in registry:
            source = registry.source(kind)
            if not source.builtin:
                out[f"{registry.category} {kind}"] = str(source)
        for value in tree.values():
            _kinds(value, registry, out)
    elif isinstance(tree, list):
        for value in tree:
            _kinds(value, registry, out)


def plugin_sources(resolved: dict[str, Any], *, predictions: bool = False) -> dict[str, str]:
    """The non-rgbench sources of the kinds a resolved case uses: ``{"architecture gmlp": "rgbench-gmlp 0.1.0"}``.

    What it computes (architecture, input) always; its predictions' observables and tests with
    `predictions` (they change how it is scored, not what is stored)."""
    out: dict[str, str] = {}
    _kinds(resolved.get("architecture"), ARCHITECTURES, out)
    _kinds(resolved.get("input"), INPUTS, out)
    if predictions:
        for pred in resolved.get("predict") or []:
            _kinds(pred.get("observable"), OBSERVABLES, out)
            _kinds(pred.get("test"), TESTS, out)
    return dict(sorted(out.items()))


def unknown_kinds(suite_data: dict[str, Any]) -> list[str]:
    """Kinds a resolved suite (``Suite.to_json`` data) names that no registry holds, e.g. "architecture 'gmlp'"."""
    models()
    found: dict[str, None] = {}

    def walk(tree: Any, registry: Registry) -> None:
        if isinstance(tree, dict):
            kind = tree.get("kind")
            if isinstance(kind, str) and kind not in registry:
                found[f"{registry.category} {kind!r}"] = None
            for value in tree.values():
                walk(value, registry)
        elif isinstance(tree, list):
            for value in tree:
                walk(value, registry)

    for case in suite_data.get("cases", []):
        walk(case.get("architecture"), ARCHITECTURES)
        walk(case.get("input"), INPUTS)
        for pred in case.get("predict") or []:
            walk(pred.get("observable"), OBSERVABLES)
            walk(pred.get("test"), TESTS)
    return list(found)


def case_hash(resolved: dict[str, Any]) -> str:
    """Stable identity of a case: what it computes (not its id or predictions) + data-format version.

    ``seed_start`` enters only when it is not 0, and the plugins its architecture and input come
    from (distribution and version) only when there are any, so every case written before either
    existed keeps its hash."""
    payload = {k: resolved[k] for k in _CASE_KEYS}
    if resolved.get("seed_start"):
        payload["seed_start"] = resolved["seed_start"]
    plugins = plugin_sources(resolved)
    if plugins:
        payload["plugins"] = plugins
    payload["data_format_version"] = DATA_FORMAT_VERSION
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Case:
    """A fully resolved case: validated configs plus its identity."""

    spec: BaseModel  # the validated CaseSpec
    hash: str
    base_id: str  # id before grid expansion
    grid: dict[str, Any] = field(default_factory=dict)
    #: (file, line, key) of the case's id in its suite file, for messages about the case (None for a
    #: suite read back from a store): not part of what the case is, so not compared
    source: tuple[str, int | None, str] | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return self.spec.id

    def __getattr__(self, name: str) -> Any:  # architecture, input, train, measure, seeds, seed_start, predict
        if name in ("architecture", "input", "train", "measure", "seeds", "seed_start", "predict"):
            return getattr(self.spec, name)
        raise AttributeError(name)

    @property
    def seed_list(self) -> list[int]:
        """The seeds this case trains: seed_start … seed_start + seeds − 1."""
        return list(range(self.spec.seed_start, self.spec.seed_start + self.spec.seeds))

    def resolved(self) -> dict[str, Any]:
        """The case as plain JSON-able data (what it computes, its id and its predictions)."""
        return self.spec.model_dump(mode="json")

    def to_json(self) -> str:
        return json.dumps(self.resolved(), sort_keys=True)


@dataclass(frozen=True)
class Suite:
    name: str
    title: str
    cases: tuple[Case, ...]
    path: str | None = None
    description: str = ""
    overrides: tuple[str, ...] = ()  # the `--set KEY=VALUE` applied on top of the file

    def case(self, case_id: str) -> Case:
        for c in self.cases:
            if c.id == case_id:
                return c
        raise KeyError(f"no case {case_id!r} in suite {self.name!r} (cases: {_listing(self.ids)})")

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.cases]

    def to_json(self) -> str:
        """The resolved suite, enough to rebuild it with `suite_from_json` (stored as store provenance)."""
        return json.dumps(
            {
                "suite": self.name,
                "title": self.title,
                "description": self.description,
                "cases": [case_to_dict(c) for c in self.cases],
                "data_format_version": DATA_FORMAT_VERSION,
                **({"overrides": list(self.overrides)} if self.overrides else {}),
            },
            sort_keys=True,
        )


# --------------------------------------------------------------------------------------------
# Loading: includes and raw structure


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

    includes = data.get("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        problems.append(
            Located(display, lines.get(("include",)), "include", f"must be a list of relative file paths; got {includes!r}")
        )
        includes = []
    for i, inc in enumerate(includes):
        where = lines.get(("include", i), lines.get(("include",)))
        try:
            target = (path.parent / inc).resolve()
        except (OSError, RuntimeError) as e:  # a symlink loop (RuntimeError before Python 3.13)
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            if isinstance(e, RuntimeError) and "loop" in reason.lower():
                reason = f"a symbolic link loop ({reason})"
            problems.append(Located(display, where, f"include[{i}]", f"included file {inc!r} cannot be resolved: {reason}"))
            continue
        if target in stack or target == here:
            chain = " → ".join(_display(p) for p in (*stack, here, target))
            problems.append(Located(display, where, f"include[{i}]", f"include cycle: {chain}"))
            continue
        if target in raw.files:  # read once: files including a common one (a diamond) do not read it again
            continue
        if not target.exists() and not target.is_symlink():
            problems.append(Located(display, where, f"include[{i}]", f"included file {inc!r} not found (looked at {target})"))
            continue
        problem = file_problem(target)  # from os.stat alone: a FIFO or a directory is never opened
        if problem is not None:
            problems.append(Located(display, where, f"include[{i}]", f"included file {inc!r} {problem} (at {target})"))
            continue
        if len(raw.files) >= MAX_FILES:
            if not raw.too_many_files:
                raw.too_many_files = True
                problems.append(
                    Located(
                        display,
                        where,
                        f"include[{i}]",
                        f"includes read more than {MAX_FILES} suite files; a suite may read at most "
                        f"{MAX_FILES} (each file is read once, however often it is included)",
                    )
                )
            continue
        _read(target, (*stack, here), problems, raw, top=False)

    if top:
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

    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        problems.append(Located(display, lines.get(("defaults",)), "defaults", f"must be a mapping; got {defaults!r}"))
    else:
        for key in defaults:
            if key not in _DEFAULT_KEYS:
                problems.append(
                    Located(display, lines.get(("defaults", key)), f"defaults.{key}", unknown_key(key, _DEFAULT_KEYS))
                )
        raw.defaults.append(({k: v for k, v in defaults.items() if k in _DEFAULT_KEYS}, src))

    null_sets = data.get("nulls", {})
    if not isinstance(null_sets, dict):
        problems.append(
            Located(
                display, lines.get(("nulls",)), "nulls", f"must be a mapping of set names to lists of nulls; got {null_sets!r}"
            )
        )
    else:
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

    cases = data.get("cases", [])
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


def _valid_id(s: str) -> bool:
    return re.fullmatch(_ID_PATTERN, s) is not None


def _id_problem(case_id: str) -> str | None:
    """Why `case_id` cannot name a directory of the store, or None: too long, a character a file name
    should not hold (a control character, e.g. from a quoted grid value), or a name the store uses."""
    size = len(case_id.encode("utf-8", "surrogatepass"))
    if size > MAX_ID_BYTES:
        chars = f" ({len(case_id)} characters)" if len(case_id) != size else ""
        return (
            f"is {size} bytes long in UTF-8{chars}; a case id names a directory of the store and may have at most {MAX_ID_BYTES}"
        )
    bad = next((c for c in case_id if not c.isprintable()), None)
    if bad is not None:
        return f"holds U+{ord(bad):04X}, an unprintable character that no file name should hold"
    if case_id.casefold() in RESERVED_IDS:
        return f"is a name the store uses itself (it may not be any of: {', '.join(RESERVED_IDS)})"
    return None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _listing(names: Sequence[str], limit: int = 10) -> str:
    """Names for a message, at most `limit` of them (a grid may make thousands)."""
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])}, … ({len(names)} in all)"


def _case_label(rc: _RawCase) -> str:
    case_id = rc.data.get("id")
    return f"cases[{case_id}]" if isinstance(case_id, str) else dotted(rc.path)


def _grid_lengths(rc: _RawCase) -> list[int]:
    """The number of values of each key of a case's grid (1 for a malformed entry: it is reported later)."""
    grid = rc.data.get("grid")
    if not isinstance(grid, dict):
        return []
    return [len(v) if isinstance(v, list) and v else 1 for v in grid.values()]


def _within_case_cap(raw: _Raw, problems: list[Located]) -> bool:
    """Whether the suite's cases, every grid expanded, number at most MAX_CASES — counted from the
    grids' lengths before a single case is built (a 10⁶-case grid is refused, never materialised)."""
    sizes = [math.prod(_grid_lengths(rc)) for rc in raw.cases]
    total = sum(sizes)
    if total <= MAX_CASES:
        return True
    big = max(range(len(sizes)), key=sizes.__getitem__)
    rc = raw.cases[big]
    if sizes[big] > 1:
        dims = " × ".join(map(str, _grid_lengths(rc)))
        problems.append(
            Located(
                rc.source.file,
                rc.source.lines.get(rc.path + ("grid",)),
                f"{_case_label(rc)}.grid",
                f"the suite expands to {total} cases, more than the {MAX_CASES} a suite may have; this "
                f"grid alone gives {sizes[big]} ({dims} values): sweep fewer values, or split the sweep "
                "into several suites",
            )
        )
    else:
        rc = raw.cases[MAX_CASES]  # the first case beyond the cap
        problems.append(
            Located(
                rc.source.file,
                rc.source.lines.get(rc.path),
                _case_label(rc),
                f"the suite has {total} cases, more than the {MAX_CASES} a suite may have: split it into several suites",
            )
        )
    return False


# --------------------------------------------------------------------------------------------
# Resolution: defaults, kind switches, grids


def _merge(base: Any, over: Any, registry: Registry | None = None) -> Any:
    """Deep merge `over` onto `base`. For a registry slot whose kind changes, keep only base keys
    the new kind accepts."""
    if not isinstance(base, dict) or not isinstance(over, dict):
        return copy.deepcopy(over)
    base = copy.deepcopy(base)
    if registry is not None and "kind" in over and over.get("kind") != base.get("kind"):
        kind = over["kind"]
        if isinstance(kind, str) and kind in registry:
            accepted = set(registry[kind].model_fields)
            base = {k: v for k, v in base.items() if k in accepted}
        else:
            base = {}
    for key, value in over.items():
        base[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
    return base


def _set_dotted(data: dict, keys: list[str], value: Any) -> None:
    for k in keys[:-1]:
        nxt = data.get(k)
        if not isinstance(nxt, dict):
            nxt = {}
            data[k] = nxt
        data = nxt
    data[keys[-1]] = copy.deepcopy(value)


@dataclass
class _Expanded:
    case_id: str
    base_id: str
    data: dict[str, Any]  # resolved, ready to validate
    grid: dict[str, Any]
    # where: list of (data-path prefix, source, source-path prefix, display-prefix) in priority order
    where: list[tuple[tuple, _Source, tuple, str]]


def _expand(raw: _Raw, problems: list[Located]) -> list[_Expanded]:
    if not _within_case_cap(raw, problems):
        return []
    defaults: dict[str, Any] = {}
    default_where: list[tuple[tuple, _Source, tuple, str]] = []
    for d, src in raw.defaults:
        for key in d:
            defaults[key] = _merge(defaults.get(key), d[key], COMPONENT_SLOTS.get((key,)))
        default_where.insert(0, ((), src, ("defaults",), "defaults"))

    out: list[_Expanded] = []
    for rc in raw.cases:
        src, cpath = rc.source, rc.path
        case_id = rc.data.get("id")
        label = f"cases[{case_id}]" if isinstance(case_id, str) else dotted(cpath)
        if "id" not in rc.data:
            problems.append(Located(src.file, src.lines.get(cpath), label, "required key missing: `id` (a unique case name)"))
            continue
        if not isinstance(case_id, str) or not _valid_id(case_id):
            problems.append(
                Located(
                    src.file,
                    src.lines.get(cpath + ("id",)),
                    f"{label}.id",
                    f"must be an identifier of letters, digits, '-', '_', '.'; got {case_id!r}",
                )
            )
            continue
        bad_id = _id_problem(case_id)
        if bad_id is not None:
            problems.append(
                Located(
                    src.file,
                    src.lines.get(cpath + ("id",)),
                    f"{label}.id",
                    f"case id {_short(case_id)!r} {bad_id}: rename the case",
                )
            )
            continue
        base = {k: copy.deepcopy(v) for k, v in defaults.items()}
        for key, value in rc.data.items():
            if key in ("grid",):
                continue
            base[key] = _merge(base[key], value, COMPONENT_SLOTS.get((key,))) if key in base else copy.deepcopy(value)
        where = [((), src, cpath, label), *default_where]

        grid = rc.data.get("grid")
        if grid is None:
            out.append(_Expanded(str(case_id), str(case_id), base, {}, where))
            continue
        gpath = cpath + ("grid",)
        if not isinstance(grid, dict) or not grid:
            problems.append(
                Located(
                    src.file,
                    src.lines.get(gpath),
                    f"{label}.grid",
                    f"must be a non-empty mapping of dotted keys to lists of values; got {grid!r}",
                )
            )
            continue
        ok = True
        for gkey, values in grid.items():
            gline = src.lines.get(gpath + (gkey,))
            head = gkey.split(".")[0]
            if head not in _DEFAULT_KEYS:
                problems.append(
                    Located(
                        src.file,
                        gline,
                        f"{label}.grid.{gkey}",
                        f"grid key does not exist: must start with one of {', '.join(_DEFAULT_KEYS)}",
                    )
                )
                ok = False
            elif not isinstance(values, list) or not values:
                problems.append(
                    Located(src.file, gline, f"{label}.grid.{gkey}", f"must be a non-empty list of values; got {values!r}")
                )
                ok = False
        if not ok:
            continue
        keys = list(grid)
        combos = list(itertools.product(*(grid[k] for k in keys)))  # at most MAX_CASES (_within_case_cap)
        gids = [f"{case_id}[{','.join(f'{k}={format_value(v)}' for k, v in zip(keys, combo))}]" for combo in combos]
        bad = next(((gid, why) for gid in gids if (why := _id_problem(gid)) is not None), None)
        if bad is not None:
            problems.append(
                Located(
                    src.file,
                    src.lines.get(gpath),
                    f"{label}.grid",
                    f"gives the case id {_short(bad[0])!r}, which {bad[1]}: change the case's id or the values the grid sweeps",
                )
            )
            continue
        gwhere = [(tuple(k.split(".")), src, gpath + (k,), f"{label}.grid.{k}") for k in keys]
        for combo, gid in zip(combos, gids):
            data = copy.deepcopy(base)
            for k, v in zip(keys, combo):
                _set_dotted(data, k.split("."), v)
            data["id"] = gid
            out.append(_Expanded(gid, str(case_id), data, dict(zip(keys, combo)), gwhere + where))
    return out


# --------------------------------------------------------------------------------------------
# Validation (pydantic's errors become located problems in _spec_errors) and checks across cases


def _validate(exp: _Expanded, problems: list[Located]) -> BaseModel | None:
    _, CaseSpec = models()
    data = dict(exp.data)
    data.setdefault("id", exp.case_id)
    try:
        return CaseSpec.model_validate(data)
    except pydantic.ValidationError as e:
        problems.extend(case_problems(e, data, exp, CaseSpec))
        return None


def _cross_checks(expanded: list[_Expanded], problems: list[Located]) -> None:
    """Checks across cases, on the resolved data (so they run even where a case has other problems)."""
    seen: dict[str, _Expanded] = {}
    folded: dict[str, _Expanded] = {}  # ids by casefold: one directory on a case-insensitive file system
    for exp in expanded:
        if exp.case_id in seen:
            file, line, key = locate(exp, ("id",))
            first = locate(seen[exp.case_id], ("id",))
            problems.append(
                Located(file, line, key, f"duplicate case id {exp.case_id!r} (first defined at {first[0]}:{first[1]})")
            )
            continue
        seen[exp.case_id] = exp
        other = folded.setdefault(exp.case_id.casefold(), exp)
        if other is not exp:
            file, line, key = locate(exp, ("id",))
            first = locate(other, ("id",))
            problems.append(
                Located(
                    file,
                    line,
                    key,
                    f"case id {_short(exp.case_id)!r} differs from {_short(other.case_id)!r} "
                    f"(defined at {first[0]}:{first[1]}) only in letter case: both would "
                    "name one directory of a store on a case-insensitive file system "
                    "(macOS, Windows); rename one",
                )
            )
    ids = list(seen)
    hints = _Hints(ids)
    for exp in expanded:
        predict = exp.data.get("predict")
        for i, pred in enumerate(predict if isinstance(predict, list) else []):
            target = value_at(pred, ("test", "compare_to"))
            if not isinstance(target, str) or target in seen:
                continue
            file, line, key = locate(exp, ("predict", i, "test", "compare_to"))
            problems.append(
                Located(
                    file, line, key, f"compare_to names no case of this suite: {target!r}{hints(target)} (cases: {_listing(ids)})"
                )
            )


class _Hints:
    """``; did you mean 'x'?`` for a name among many case ids, computed once per name (a grid's
    thousands of cases share their predictions, and so their typos)."""

    def __init__(self, ids: list[str]):
        self.ids = ids
        self.memo: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name not in self.memo:
            close = closest(name, self.ids)
            self.memo[name] = f"; did you mean {close!r}?" if close else ""
        return self.memo[name]


def _resolve_null_sets(expanded: list[_Expanded], raw: _Raw, problems: list[Located]) -> None:
    """Replace the names of top-level null sets in every prediction's `nulls` by the sets' references."""
    ids = {exp.case_id for exp in expanded}
    for name, (_, src) in raw.nulls.items():
        if name in ids:
            problems.append(
                Located(
                    src.file,
                    src.lines.get(("nulls", name)),
                    f"nulls.{name}",
                    f"a null set may not share its name with case {name!r}: in a prediction's `nulls` "
                    "the name would mean both; rename the set",
                )
            )

    memo: dict[str, list] = {}  # each set expanded once: sets naming sets twice over cannot grow as 2^depth

    def expand(items: list, chain: tuple[str, ...]) -> list:
        out: list = []
        for item in items:
            if isinstance(item, str) and item in raw.nulls and item not in chain:
                if item not in memo:
                    refs = raw.nulls[item][0]
                    memo[item] = expand(refs if isinstance(refs, list) else [refs], (*chain, item))
                out += memo[item]
            elif isinstance(item, str) and item in chain:
                src = raw.nulls[item][1]
                problems.append(
                    Located(
                        src.file,
                        src.lines.get(("nulls", item)),
                        f"nulls.{item}",
                        f"null sets name each other in a cycle: {' → '.join((*chain, item))}",
                    )
                )
            else:
                out.append(item)
            if len(out) > MAX_NULLS:
                return out[: MAX_NULLS + 1]
        return out

    for exp in expanded:
        predict = exp.data.get("predict")
        for i, pred in enumerate(predict if isinstance(predict, list) else []):
            if isinstance(pred, dict) and isinstance(pred.get("nulls"), (str, list)):
                value = pred["nulls"]
                pred["nulls"] = expand(value if isinstance(value, list) else [value], ())
                if len(pred["nulls"]) > MAX_NULLS:
                    file, line, key = locate(exp, ("predict", i, "nulls"))
                    problems.append(
                        Located(
                            file,
                            line,
                            key,
                            f"names more than {MAX_NULLS} nulls once its null sets "
                            f"expand; a prediction may have at most {MAX_NULLS}",
                        )
                    )


def _null_checks(validated: list[tuple[_Expanded, BaseModel]], expanded: list[_Expanded], problems: list[Located]) -> None:
    """Every null names a case of the suite that measures the stage the null reads."""
    from .predictions import resolved_selection

    ids = [exp.case_id for exp in expanded]
    known = set(ids)
    hints = _Hints(ids)
    stages = {exp.case_id: list(spec.measure.stages) for exp, spec in validated}
    for exp, spec in validated:
        for i, pred in enumerate(spec.predict):
            for j, null in enumerate(pred.nulls):
                file, line, key = locate(exp, ("predict", i, "nulls", j))
                missing = [c for c in (null.case, null.compare_to) if c is not None and c not in known]
                for c in missing:
                    problems.append(
                        Located(
                            file,
                            line,
                            key,
                            f"null {null.label()!r} names no case of this suite: {c!r}{hints(c)} (cases: {_listing(ids)})",
                        )
                    )
                if missing:
                    continue
                stage = null.stage if null.stage is not None else resolved_selection(pred.observable, pred.stage, None)[0]
                needed = [stage] if stage is not None else (["init", "trained"] if pred.observable.staged else [])
                for c in {null.case or exp.case_id, null.compare_to or pred.test.reference()[0]} - {None}:
                    absent = [st for st in needed if c in stages and st not in stages[c]]
                    if absent:
                        problems.append(
                            Located(
                                file,
                                line,
                                key,
                                f"null {null.label()!r} reads stage {absent[0]!r} of case {c!r}, "
                                f"which measures only {', '.join(stages[c])}; add it to its "
                                "`measure.stages`",
                            )
                        )


def _parse_overrides(overrides: Sequence[str], problems: list[Located]) -> list[tuple[str, Any]]:
    """``KEY=VALUE`` strings → (dotted key, value); the value is read as YAML (safe: scalars, lists, mappings)."""
    out = []
    for text in overrides:
        key, sep, value = str(text).partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(Located("--set", None, str(text), "must be KEY=VALUE, e.g. --set train.steps=10000"))
            continue
        head = key.split(".")[0]
        if head not in _DEFAULT_KEYS:
            problems.append(Located("--set", None, key, "no such key: " + unknown_key(head, _DEFAULT_KEYS)))
            continue
        try:  # the suite files' own safe builder: its caps on nodes and depth, no tags, no inf or nan
            parsed, _, refused = load_yaml_text(value, "--set")
        except YamlProblem as e:
            problems.append(Located("--set", None, key, f"value {value!r} is not valid YAML: {e.problems[0].message}"))
            continue
        if refused:
            problems.extend(Located("--set", None, key, f"{p.message} (in {value!r})") for p in refused)
            continue
        out.append((key, parsed))
    return out


def _apply_overrides(expanded: list[_Expanded], overrides: list[tuple[str, Any]], problems: list[Located]) -> None:
    """Set each override in every case, above defaults, the case itself and its grid."""
    source = _Source("--set", {}, {})
    for key, value in overrides:
        keys = key.split(".")
        for exp in expanded:
            clash = [g for g in exp.grid if g == key or g.startswith(key + ".") or key.startswith(g + ".")]
            if clash:
                problems.append(
                    Located(
                        "--set",
                        None,
                        key,
                        f"case {exp.base_id!r} sweeps {clash[0]!r} in its grid; "
                        "an override would give its cases ids that no longer say what they compute",
                    )
                )
                continue
            _set_dotted(exp.data, keys, value)
            exp.where.insert(0, (tuple(keys), source, (), key))


def load_suite(path: str | Path, overrides: Sequence[str] = ()) -> Suite:
    """Read, resolve and validate a suite file. Raises SuiteError listing every problem.

    `overrides` (``rgbench run --set KEY=VALUE``) set a dotted key in every case, above everything the
    file says — e.g. ``train.steps=10000`` or ``seeds=10`` for a longer run on an accelerator — and are
    validated with the file, their problems reported as ``--set: KEY: …``."""
    path = Path(path)
    models()  # populate the registries first: merging needs to know each kind's parameters
    problems: list[Located] = []
    raw = _Raw()
    _read(path, (), problems, raw, top=True)
    expanded = _expand(raw, problems)
    _apply_overrides(expanded, _parse_overrides(overrides, problems), problems)
    _resolve_null_sets(expanded, raw, problems)
    validated = [(exp, spec) for exp in expanded if (spec := _validate(exp, problems)) is not None]
    _cross_checks(expanded, problems)
    _null_checks(validated, expanded, problems)
    if not expanded and not problems:
        problems.append(Located(_display(path), None, "cases", "the suite has no cases"))
    if problems:
        raise SuiteError(_dedupe(problems))
    cases = tuple(
        Case(spec, case_hash(spec.model_dump(mode="json")), exp.base_id, exp.grid, locate(exp, ("id",)))
        for exp, spec in validated
    )
    return Suite(raw.name or path.stem, raw.title, cases, _display(path), raw.description, tuple(overrides))


def _dedupe(problems: list[Located]) -> list[Located]:
    seen, out = set(), []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def case_to_dict(case: Case) -> dict[str, Any]:
    """A case as JSON-able data that `case_from_dict` turns back into an equal Case."""
    return dict(case.resolved(), _base_id=case.base_id, _grid=case.grid)


def case_from_dict(data: dict[str, Any]) -> Case:
    _, CaseSpec = models()
    data = dict(data)
    base_id, grid = data.pop("_base_id", data["id"]), data.pop("_grid", {})
    spec = CaseSpec.model_validate(data)
    return Case(spec, case_hash(spec.model_dump(mode="json")), base_id, grid)


def suite_from_json(text: str) -> Suite:
    """Rebuild a suite from `Suite.to_json()` (e.g. from a store's provenance)."""
    data = json.loads(text)
    cases = tuple(case_from_dict(c) for c in data["cases"])
    return Suite(data["suite"], data.get("title", ""), cases, None, data.get("description", ""), tuple(data.get("overrides", ())))
