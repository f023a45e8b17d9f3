"""The resolved suite: `Case` and `Suite`, `load_suite` (read → resolve → validate → check, every
problem of a file reported at once in a `SuiteError`), and the JSON a store keeps to rebuild a suite."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .._version import DATA_FORMAT_VERSION
from ._checks import (
    _claim_id_checks,
    _cross_checks,
    _null_checks,
    _resolve_null_sets,
    _stage_checks,
    _validate,
    uninformative_nulls,
)
from ._expand import _apply_overrides, _expand, _parse_overrides
from ._hash import UNHASHED_TRAIN_KEYS, case_hash
from ._packaged import resolve_suite_path
from ._problems import SuiteError, _listing, locate
from ._read import _display, _Raw, _read
from ._schema import models
from ._yaml import Located


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

    @property
    def training_key(self) -> str:
        """What this case trains (architecture, input, training, seeds and the steps it keeps): two
        consecutive cases of a run with the same key train once (`rgbench.runner`)."""
        r = self.resolved()
        r["train"] = {k: v for k, v in r["train"].items() if k not in UNHASHED_TRAIN_KEYS}
        kept = {"seeds": self.seed_list, "snapshots": list(self.measure.step_stages)}
        return json.dumps({k: r[k] for k in ("architecture", "input", "train")} | kept, sort_keys=True)


@dataclass(frozen=True)
class Suite:
    name: str
    title: str
    cases: tuple[Case, ...]
    path: str | None = None
    description: str = ""
    overrides: tuple[str, ...] = ()  # the `--set KEY=VALUE` applied on top of the file
    alpha: float = 0.05  # the level of every verdict
    multiplicity: str = "holm"  # the correction over the suite's claims
    warnings: tuple[Located, ...] = ()  # what validates but cannot work as meant (`rgbench validate`; errors with --strict)

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
                "alpha": self.alpha,
                "multiplicity": self.multiplicity,
                "cases": [case_to_dict(c) for c in self.cases],
                "data_format_version": DATA_FORMAT_VERSION,
                **({"overrides": list(self.overrides)} if self.overrides else {}),
            },
            sort_keys=True,
        )


def load_suite(path: str | Path, overrides: Sequence[str] = ()) -> Suite:
    """Read, resolve and validate a suite file. Raises SuiteError listing every problem.

    `path` is a file, or the name of a standard suite when no such file exists (``smoke``,
    ``rg-paper-v3``, ``archive/rg-paper-v1``: `rgbench.suite._packaged`), read from the installed
    package ``rgbench.suites``.

    `overrides` (``rgbench run --set KEY=VALUE``) set a dotted key in every case, above everything the
    file says — e.g. ``train.steps=10000`` or ``seeds=10`` for a longer run on an accelerator — and are
    validated with the file, their problems reported as ``--set: KEY: …``."""
    path = resolve_suite_path(path)
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
    _stage_checks(validated, problems)
    _claim_id_checks(validated, problems)
    if not expanded and not problems:
        problems.append(Located(_display(path), None, "cases", "the suite has no cases"))
    if problems:
        raise SuiteError(_dedupe(problems))
    cases = tuple(
        Case(spec, case_hash(spec.model_dump(mode="json")), exp.base_id, exp.grid, locate(exp, ("id",)))
        for exp, spec in validated
    )
    return Suite(
        raw.name or path.stem,
        raw.title,
        cases,
        _display(path),
        raw.description,
        tuple(overrides),
        alpha=raw.alpha,
        multiplicity=raw.multiplicity,
        warnings=tuple(uninformative_nulls(validated)),
    )


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
    return Suite(
        data["suite"],
        data.get("title", ""),
        cases,
        None,
        data.get("description", ""),
        tuple(data.get("overrides", ())),
        alpha=float(data.get("alpha", 0.05)),  # stores written before the suite recorded it: the default
        multiplicity=str(data.get("multiplicity", "holm")),
    )
