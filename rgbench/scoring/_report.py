"""The report of a scoring: plain data (verdicts, counts, case summaries) and its JSON.

`Report` holds what the scorer decided; its renderings (markdown, HTML, a rich table, pandas) are
the functions of `rgbench.scoring._render`, which its methods of those names call.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import xarray as xr

from ..predictions import (
    AbstractObservable,
    DriftConcentration,
    LossGapBayes,
    LossGapTokenwise,
    ObservableUnavailable,
    RankCollapse,
)
from . import _render
from ._preregistration import preregistration_text
from ._verdicts import PredictionResult, ScoreError, Verdict, _jsonable

__all__ = ["CaseSummary", "Report", "FIGURES", "case_figures"]


@dataclass(frozen=True)
class CaseSummary:
    """What the leaderboard needs of one case: its configuration, status and per-seed figures."""

    case: str
    architecture: dict[str, Any]
    input: dict[str, Any]
    status: str
    data_format_version: int | None = None
    spec_hash: str | None = None
    wall_seconds: float | None = None
    figures: dict[str, list[float] | None] = field(default_factory=dict)
    start_time: str | None = None
    preregistration: dict[str, Any] | None = None  # the suite file's record when the run started (`rgbench._git`)
    train: dict[str, Any] = field(default_factory=dict)  # the resolved `train:` (the leaderboard's cost columns)
    seeds: int | None = None
    train_seconds: float | None = None  # 0 for a case that reused the previous case's training
    train_resumed_from_step: int | None = None  # > 0: its training resumed from a checkpoint (train_seconds counts the rest)


# The headline figures of a case: name → (the observable, with its defaults, whose per-seed values it
# is; what it means).
_FIGURE_SOURCES: dict[str, tuple[type[AbstractObservable], str]] = {
    "collapse": (RankCollapse, "rank collapse C: erank drop over layers 1..L, trained minus init"),
    "drift_share": (DriftConcentration, "top-2 share of trained kernel drift"),
    "loss_gap_bayes": (LossGapBayes, "final loss − Bayes floor (nats)"),
    "loss_gap_tokenwise": (LossGapTokenwise, "final loss − tokenwise floor (nats)"),
}
FIGURES = {name: meaning for name, (_, meaning) in _FIGURE_SOURCES.items()}


def case_figures(ds: xr.Dataset) -> dict[str, list[float] | None]:
    """Per-seed headline figures of a case (None where the data are absent)."""
    out: dict[str, list[float] | None] = {}
    for name, (observable, _) in _FIGURE_SOURCES.items():
        try:
            out[name] = [float(v) for v in observable().values(ds).values]
        except (ObservableUnavailable, KeyError, ValueError):
            out[name] = None
    return out


@dataclass
class Report:
    """The verdicts of one suite on one store."""

    suite: str
    predictions: list[PredictionResult]
    cases: dict[str, CaseSummary] = field(default_factory=dict)
    title: str = ""
    store: str | None = None
    data_format_version: int | None = None
    alpha: float | None = None  # the suite's level (None: a report written before it was recorded)
    multiplicity: str | None = None  # the suite's correction over its claims
    suite_source: str | None = None  # the suite file scored with, "store" (its recorded suite) or "given"
    previous: str | None = None  # the earlier report the predictions' `previous_verdict` come from

    def with_previous(self, earlier: Report, source: str) -> Report:
        """This report with each prediction's verdict in `earlier` (matched by case and claim) recorded
        where it differs: how a change of the scorer or the suite moved the verdicts."""
        before = {(p.case, p.claim): p.verdict.value for p in earlier.predictions}
        predictions = [
            replace(p, previous_verdict=before[(p.case, p.claim)])
            if before.get((p.case, p.claim), p.verdict.value) != p.verdict.value
            else p
            for p in self.predictions
        ]
        return replace(self, predictions=predictions, previous=source)

    @property
    def claims(self) -> list[PredictionResult]:
        return [p for p in self.predictions if p.purpose == "claim"]

    @property
    def diagnostics(self) -> list[PredictionResult]:
        return [p for p in self.predictions if p.purpose != "claim"]

    @property
    def counts(self) -> dict[str, int]:
        """Verdicts of the claims (diagnostics are counted apart: `diagnostic_counts`)."""
        c = Counter(p.verdict.value for p in self.claims)
        return {v.value: c.get(v.value, 0) for v in Verdict}

    @property
    def diagnostic_counts(self) -> dict[str, int]:
        c = Counter(p.verdict.value for p in self.diagnostics)
        return {v.value: c.get(v.value, 0) for v in Verdict}

    @property
    def family_counts(self) -> dict[str, dict[str, int]]:
        """Verdicts of the claims per multiplicity family (`family:`); empty where the suite names none."""
        found: dict[str, Counter] = {}
        for p in self.claims:
            if p.family is not None:
                found.setdefault(p.family, Counter())[p.verdict.value] += 1
        return {f: {v.value: c.get(v.value, 0) for v in Verdict} for f, c in found.items()}

    def ok(self) -> bool:
        """False when any prediction is FAIL, NONSPECIFIC or ERROR (what ``--strict`` turns into exit status 1)."""
        return not any(p.verdict in (Verdict.FAIL, Verdict.NONSPECIFIC, Verdict.ERROR) for p in self.predictions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "title": self.title,
            "store": self.store,
            "data_format_version": self.data_format_version,
            "alpha": self.alpha,
            "multiplicity": self.multiplicity,
            "suite_source": self.suite_source,
            "previous": self.previous,
            "counts": self.counts,
            "diagnostic_counts": self.diagnostic_counts,
            **({"family_counts": self.family_counts} if self.family_counts else {}),
            "preregistration": preregistration_text(self.cases) if self.cases else None,
            "predictions": [p.to_dict() for p in self.predictions],
            "cases": {k: _jsonable(asdict(v)) for k, v in self.cases.items()},
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Report:
        if "suite" not in d or "predictions" not in d:
            raise ScoreError(
                "not an rgbench score report: expected keys 'suite' and 'predictions' "
                "(write one with `rgbench score STORE --format json`)"
            )
        cases = {k: CaseSummary(**v) for k, v in (d.get("cases") or {}).items()}
        return cls(
            suite=d["suite"],
            predictions=[PredictionResult.from_dict(p) for p in d["predictions"]],
            cases=cases,
            title=d.get("title", ""),
            store=d.get("store"),
            data_format_version=d.get("data_format_version"),
            alpha=d.get("alpha"),
            multiplicity=d.get("multiplicity"),
            suite_source=d.get("suite_source"),
            previous=d.get("previous"),
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        return cls.from_dict(json.loads(text))

    # Renderings (`rgbench.scoring._render`)

    def summary_line(self) -> str:
        return _render.summary_line(self)

    def notes(self) -> list[str]:
        """Why each non-PASS prediction is not PASS, one line each."""
        return _render.notes(self)

    def to_markdown(self) -> str:
        return _render.to_markdown(self)

    def to_html(self) -> str:
        """An HTML fragment: the verdict table and why each non-PASS prediction is not PASS."""
        return _render.to_html(self)

    def _repr_html_(self) -> str:  # Jupyter
        return _render.repr_html(self)

    def to_pandas(self):
        """One row per prediction: case, claim, verdict, test_verdict, purpose, statistic, ci_lo, ci_hi, seeds_passing,
        seeds, nulls (text), reason — a `pandas.DataFrame`."""
        return _render.to_pandas(self)

    def to_table(self):
        """A `rich.table.Table` for the terminal."""
        return _render.to_table(self)
