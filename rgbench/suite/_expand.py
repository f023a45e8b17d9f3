"""Resolution: each raw case merged over the defaults (a switch of kind keeps only what the new kind
accepts), its grid expanded into one case per combination (counted against MAX_CASES first), and the
``--set KEY=VALUE`` overrides applied above everything; each resolved case remembers where its keys came from."""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..registry import Registry
from ._problems import COMPONENT_SLOTS, _short, format_value, unknown_key
from ._read import _Raw, _RawCase, _Source
from ._schema import _DEFAULT_KEYS, MAX_CASES, _id_problem, _valid_id
from ._yaml import Located, YamlProblem, dotted
from ._yaml import loads as load_yaml_text

# --------------------------------------------------------------------------------------------
# The case cap: every grid counted before a case is built


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
    """Every case of the suite, resolved: merged over the defaults, grids expanded (none when the
    suite has more than MAX_CASES)."""
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
        out += _expand_case(rc, defaults, default_where, problems)
    return out


def _expand_case(
    rc: _RawCase, defaults: dict[str, Any], default_where: list[tuple[tuple, _Source, tuple, str]], problems: list[Located]
) -> list[_Expanded]:
    """One raw case over the merged defaults: itself, or the cases of its grid (none where its id or grid is refused)."""
    src, cpath = rc.source, rc.path
    case_id = rc.data.get("id")
    label = _case_label(rc)
    bad_id = _case_id_problem(rc, label)
    if bad_id is not None:
        problems.append(bad_id)
        return []
    base = {k: copy.deepcopy(v) for k, v in defaults.items()}
    for key, value in rc.data.items():
        if key in ("grid",):
            continue
        base[key] = _merge(base[key], value, COMPONENT_SLOTS.get((key,))) if key in base else copy.deepcopy(value)
    where = [((), src, cpath, label), *default_where]

    if rc.data.get("grid") is None:
        return [_Expanded(str(case_id), str(case_id), base, {}, where)]
    return _expand_grid(rc, label, base, where, problems)


def _case_id_problem(rc: _RawCase, label: str) -> Located | None:
    """Why a raw case's id is refused (missing, not an identifier, unfit to name a store directory), or None."""
    src, cpath = rc.source, rc.path
    case_id = rc.data.get("id")
    if "id" not in rc.data:
        return Located(src.file, src.lines.get(cpath), label, "required key missing: `id` (a unique case name)")
    if not isinstance(case_id, str) or not _valid_id(case_id):
        return Located(
            src.file,
            src.lines.get(cpath + ("id",)),
            f"{label}.id",
            f"must be an identifier of letters, digits, '-', '_', '.'; got {case_id!r}",
        )
    bad_id = _id_problem(case_id)
    if bad_id is not None:
        return Located(
            src.file,
            src.lines.get(cpath + ("id",)),
            f"{label}.id",
            f"case id {_short(case_id)!r} {bad_id}: rename the case",
        )
    return None


def _expand_grid(
    rc: _RawCase, label: str, base: dict[str, Any], where: list[tuple[tuple, _Source, tuple, str]], problems: list[Located]
) -> list[_Expanded]:
    """The cases of a case's grid, one per combination of values, with ids ``<id>[key=value,...]``
    (none where the grid or an id it gives is refused)."""
    src, gpath = rc.source, rc.path + ("grid",)
    case_id, grid = rc.data["id"], rc.data["grid"]
    if not isinstance(grid, dict) or not grid:
        problems.append(
            Located(
                src.file,
                src.lines.get(gpath),
                f"{label}.grid",
                f"must be a non-empty mapping of dotted keys to lists of values; got {grid!r}",
            )
        )
        return []
    if not _grid_keys_ok(grid, src, gpath, label, problems):
        return []
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
        return []
    gwhere = [(tuple(k.split(".")), src, gpath + (k,), f"{label}.grid.{k}") for k in keys]
    out: list[_Expanded] = []
    for combo, gid in zip(combos, gids):
        data = copy.deepcopy(base)
        for k, v in zip(keys, combo):
            _set_dotted(data, k.split("."), v)
        data["id"] = gid
        out.append(_Expanded(gid, str(case_id), data, dict(zip(keys, combo)), gwhere + where))
    return out


def _grid_keys_ok(grid: dict, src: _Source, gpath: tuple, label: str, problems: list[Located]) -> bool:
    """Whether every key of a grid starts with a key a case may set and sweeps a non-empty list (each
    one that does not is reported)."""
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
    return ok


# --------------------------------------------------------------------------------------------
# Overrides: ``--set KEY=VALUE``, above everything the file says


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
