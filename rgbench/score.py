"""Scoring: predictions × stored case datasets → verdicts.

For every prediction of every case of a suite the scorer reads the observable from the stored case
dataset (and, for comparisons, from the reference case or stage), lets the test compute one
statistic per seed (`rgbench.predictions`), then decides across seeds.

Verdicts
    PASS / FAIL      the data support the claim / its negation: *both* rules below agree.
    NONSPECIFIC      the test PASSes, but so does (or cannot be told from passing: INCONCLUSIVE)
                     one of the prediction's nulls — the same observable and test on the untrained
                     network, on i.i.d. input, … (`PredictionBase.nulls`). Never counted as PASS.
    INCONCLUSIVE     the rules disagree or either is undecided, or fewer than two seeds.
    ERROR            the case (or the reference case) is missing from the store, diverged or failed,
                     was computed from a different spec (stale hash) or data-format version, or the
                     observable is absent or NaN — or any of this holds for a null. Nothing
                     ever passes on missing data.

    Seed rule: f = seeds passing / seeds, q = the test's ``seeds_at_least`` (> ½). PASS if f ≥ q,
    FAIL if 1 − f ≥ q, otherwise INCONCLUSIVE (f lies between the pass and the fail band).

    Interval rule: a 95 % BCa bootstrap interval of the across-seed statistic (mean over seeds;
    resampling seeds, by seed label for paired comparisons, with the fixed RNG seed
    `BOOTSTRAP_SEED`, so verdicts are deterministic). PASS if it lies inside the test's pass region
    and excludes its bounds (``at_least: 0`` passes only when the interval excludes 0; the discrete
    statistics of `monotone` and `plateau` may touch them), FAIL if it lies wholly outside,
    INCONCLUSIVE if it straddles or touches a bound. `Equivalence` uses a TOST at
    α = 0.05 instead (see its docstring).

Every result carries the statistic's mean, its 95 % interval, seeds passing / seeds, the pass region
(``threshold``: [lo, hi], null = unbounded) and the claim text. `Report.to_json` gives::

    {"suite": ..., "title": ..., "store": ..., "data_format_version": ..., "counts": {...},
     "predictions": [{"case", "claim", "observable", "test", "verdict", "statistic", "ci": [lo, hi],
                      "seeds_passing", "seeds", "threshold": [lo, hi], "reason", "labels", "spec",
                      "seeds_at_least", "per_seed": {"seed", "statistic", "passed"}, "detail", "test_verdict",
                      "nulls": [{"ref", "case", "stage", "compare_to", "verdict", "statistic", "ci",
                                 "seeds_passing", "seeds", "reason", "per_seed"}]}],
     "cases": {case_id: {"architecture", "input", "status", "data_format_version", "spec_hash",
                         "wall_seconds", "figures": {name: [per-seed values] | null}}}}

``observable`` and ``test`` are the registered kinds; ``labels`` has readable descriptions of both.
Each null reports the verdict the same test gets there; ``test_verdict`` is the test's own outcome
on the case and ``verdict`` the final one (NONSPECIFIC or ERROR where a null decides it).
The keys listed first are the stable contract; the per-seed values and case figures feed the
leaderboard so it needs reports, never training.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import stats

from ._modules import callable_module
from ._version import DATA_FORMAT_VERSION
from .predictions import (
    AbstractObservable,
    AbstractTest,
    DriftConcentration,
    LossGapBayes,
    LossGapTokenwise,
    ObservableUnavailable,
    RankCollapse,
    SeedStatistics,
    format_region,
    resolved_selection,
)

if TYPE_CHECKING:
    from .spec import Suite

__all__ = [
    "Verdict",
    "ScoreError",
    "PredictionResult",
    "NullResult",
    "CaseSummary",
    "Report",
    "score_store",
    "score_datasets",
    "evaluate_prediction",
    "bootstrap_ci",
    "decide",
    "case_figures",
    "BOOTSTRAP_SEED",
    "N_RESAMPLES",
]

BOOTSTRAP_SEED = 0
N_RESAMPLES = 9999
CONFIDENCE = 0.95
_EPS = 1e-12


class ScoreError(Exception):
    """A problem the user must fix before anything can be scored (the message says how)."""


class Verdict(str, Enum):
    """Outcome of one prediction."""

    PASS = "PASS"
    NONSPECIFIC = "NONSPECIFIC"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"
    ERROR = "ERROR"

    def __str__(self) -> str:
        return self.value


# --------------------------------------------------------------------------------------------
# Results


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _ci_list(ci: tuple[float, float] | None) -> list[float | None] | None:
    return None if ci is None else [_num(ci[0]), _num(ci[1])]


def _ci_text(statistic: float | None, ci: tuple[float, float] | None) -> str:
    if statistic is None:
        return "—"
    if ci is None:
        return f"{statistic:.4g}"
    return f"{statistic:.4g} [{ci[0]:.4g}, {ci[1]:.4g}]"


@dataclass(frozen=True)
class NullResult:
    """The same observable and test evaluated on one of a prediction's nulls."""

    ref: str  # readable: 'init', 'iid', 'iid@init', 'shuffle-long vs long-xi'
    case: str
    stage: str | None
    compare_to: str | None
    verdict: Verdict
    statistic: float | None = None
    ci: tuple[float, float] | None = None
    seeds_passing: int | None = None
    seeds: int | None = None
    reason: str = ""
    per_seed: dict[str, list] = field(default_factory=dict)

    @property
    def blocks(self) -> bool:
        """Whether this null makes a PASS nonspecific: the test passes here too, or cannot be told from passing."""
        return self.verdict in (Verdict.PASS, Verdict.INCONCLUSIVE)

    @property
    def text(self) -> str:
        seeds = "" if self.seeds is None else f", {self.seeds_passing}/{self.seeds}"
        return f"{self.ref}: {self.verdict.value} {_ci_text(self.statistic, self.ci)}{seeds}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "case": self.case,
            "stage": self.stage,
            "compare_to": self.compare_to,
            "verdict": self.verdict.value,
            "statistic": _num(self.statistic),
            "ci": _ci_list(self.ci),
            "seeds_passing": self.seeds_passing,
            "seeds": self.seeds,
            "reason": self.reason,
            "per_seed": self.per_seed,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NullResult:
        return cls(
            ref=d["ref"],
            case=d["case"],
            stage=d.get("stage"),
            compare_to=d.get("compare_to"),
            verdict=Verdict(d["verdict"]),
            statistic=d.get("statistic"),
            ci=tuple(d["ci"]) if d.get("ci") else None,
            seeds_passing=d.get("seeds_passing"),
            seeds=d.get("seeds"),
            reason=d.get("reason", ""),
            per_seed=d.get("per_seed") or {},
        )


@dataclass(frozen=True)
class PredictionResult:
    """The verdict of one prediction with the numbers behind it (and those of its nulls)."""

    case: str
    claim: str
    observable: str
    test: str
    verdict: Verdict
    statistic: float | None = None
    ci: tuple[float, float] | None = None
    seeds_passing: int | None = None
    seeds: int | None = None
    threshold: tuple[float | None, float | None] | None = None
    reason: str = ""
    observable_label: str = ""
    test_label: str = ""
    spec: dict[str, Any] = field(default_factory=dict)
    seeds_at_least: float | None = None
    per_seed: dict[str, list] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    nulls: tuple[NullResult, ...] = ()
    test_verdict: Verdict | None = None  # the test's own outcome on the case, before the nulls (None: = verdict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "claim": self.claim,
            "observable": self.observable,
            "test": self.test,
            "verdict": self.verdict.value,
            "test_verdict": (self.test_verdict or self.verdict).value,
            "statistic": _num(self.statistic),
            "ci": _ci_list(self.ci),
            "seeds_passing": self.seeds_passing,
            "seeds": self.seeds,
            "threshold": None if self.threshold is None else [_num(self.threshold[0]), _num(self.threshold[1])],
            "reason": self.reason,
            "labels": {"observable": self.observable_label, "test": self.test_label},
            "spec": self.spec,
            "seeds_at_least": self.seeds_at_least,
            "per_seed": self.per_seed,
            "detail": _jsonable(self.detail),
            "nulls": [n.to_dict() for n in self.nulls],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PredictionResult:
        labels = d.get("labels") or {}
        return cls(
            case=d["case"],
            claim=d["claim"],
            observable=d["observable"],
            test=d["test"],
            verdict=Verdict(d["verdict"]),
            statistic=d.get("statistic"),
            ci=tuple(d["ci"]) if d.get("ci") else None,
            seeds_passing=d.get("seeds_passing"),
            seeds=d.get("seeds"),
            threshold=tuple(d["threshold"]) if d.get("threshold") else None,
            reason=d.get("reason", ""),
            observable_label=labels.get("observable", d["observable"]),
            test_label=labels.get("test", d["test"]),
            spec=d.get("spec") or {},
            seeds_at_least=d.get("seeds_at_least"),
            per_seed=d.get("per_seed") or {},
            detail=d.get("detail") or {},
            nulls=tuple(NullResult.from_dict(n) for n in d.get("nulls") or ()),
            test_verdict=Verdict(d["test_verdict"]) if d.get("test_verdict") else None,
        )

    @property
    def threshold_text(self) -> str:
        return "" if self.threshold is None else format_region(self.threshold)

    @property
    def statistic_text(self) -> str:
        return _ci_text(self.statistic, self.ci)

    @property
    def nulls_text(self) -> str:
        return "; ".join(n.text for n in self.nulls) or "—"


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


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

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(p.verdict.value for p in self.predictions)
        return {v.value: c.get(v.value, 0) for v in Verdict}

    def ok(self) -> bool:
        """False when any prediction is FAIL, NONSPECIFIC or ERROR (what ``--strict`` turns into exit status 1)."""
        return not any(p.verdict in (Verdict.FAIL, Verdict.NONSPECIFIC, Verdict.ERROR) for p in self.predictions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "title": self.title,
            "store": self.store,
            "data_format_version": self.data_format_version,
            "counts": self.counts,
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
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        return cls.from_dict(json.loads(text))

    @property
    def _with_nulls(self) -> bool:
        return any(p.nulls for p in self.predictions)

    def _rows(self) -> list[list[str]]:
        rows = [
            [
                p.case,
                p.claim,
                p.observable_label or p.observable,
                p.test_label or p.test,
                p.verdict.value,
                p.statistic_text,
                "—" if p.seeds is None else f"{p.seeds_passing}/{p.seeds}",
                p.threshold_text,
            ]
            for p in self.predictions
        ]
        if self._with_nulls:
            for row, p in zip(rows, self.predictions):
                row.append(p.nulls_text)
        return rows

    @property
    def _header(self) -> list[str]:
        head = ["case", "claim", "observable", "test", "verdict", "statistic [95 % CI]", "seeds", "pass region"]
        return head + ["nulls (verdict, statistic [95 % CI], seeds)"] if self._with_nulls else head

    def summary_line(self) -> str:
        c = self.counts
        return f"{len(self.predictions)} predictions: " + ", ".join(f"{c[v.value]} {v.value}" for v in Verdict)

    def to_markdown(self) -> str:
        def cell(s: str) -> str:
            return s.replace("|", "\\|").replace("\n", " ")

        head = f"# {self.suite}" + (f": {self.title}" if self.title else "")
        lines = [head, "", self.summary_line(), "", "| " + " | ".join(self._header) + " |", "|" + "---|" * len(self._header)]
        for row, p in zip(self._rows(), self.predictions):
            row[4] = f"**{row[4]}**"
            lines.append("| " + " | ".join(cell(c) for c in row) + " |")
        notes = [f"- {cell(n)}" for n in self.notes()]
        if notes:
            lines += ["", "Why not PASS:", "", *notes]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """An HTML fragment: the verdict table and why each non-PASS prediction is not PASS."""
        import html

        colors = {"PASS": "#1a7f37", "NONSPECIFIC": "#bc4c00", "FAIL": "#cf222e", "INCONCLUSIVE": "#9a6700", "ERROR": "#8250df"}
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._header)
        body = []
        for row, p in zip(self._rows(), self.predictions):
            cells = [f"<td>{html.escape(c)}</td>" for c in row]
            cells[4] = f'<td style="color:{colors[p.verdict.value]};font-weight:bold">{p.verdict.value}</td>'
            body.append(f'<tr title="{html.escape(p.reason)}">' + "".join(cells) + "</tr>")
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes())
        return (
            f'<p>{html.escape(self.summary_line())}</p><table class="rgbench-score"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>" + (f"<p>Why not PASS:</p><ul>{notes}</ul>" if notes else "")
        )

    def notes(self) -> list[str]:
        """Why each non-PASS prediction is not PASS, one line each."""
        return [
            f"{p.case} — {p.claim}: {p.verdict.value}: {p.reason}"
            for p in self.predictions
            if p.verdict is not Verdict.PASS and p.reason
        ]

    def _repr_html_(self) -> str:  # Jupyter
        return f"<h4>{self.suite}" + (f": {self.title}" if self.title else "") + "</h4>" + self.to_html()

    def to_pandas(self):
        """One row per prediction: case, claim, verdict, test_verdict, statistic, ci_lo, ci_hi, seeds_passing,
        seeds, nulls (text), reason — a `pandas.DataFrame`."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "case": p.case,
                    "claim": p.claim,
                    "verdict": p.verdict.value,
                    "test_verdict": (p.test_verdict or p.verdict).value,
                    "statistic": p.statistic,
                    "ci_lo": None if p.ci is None else p.ci[0],
                    "ci_hi": None if p.ci is None else p.ci[1],
                    "seeds_passing": p.seeds_passing,
                    "seeds": p.seeds,
                    "nulls": p.nulls_text,
                    "reason": p.reason,
                }
                for p in self.predictions
            ]
        )

    def to_table(self):
        """A `rich.table.Table` for the terminal."""
        from rich.markup import escape
        from rich.table import Table

        style = {
            "PASS": "bold green",
            "NONSPECIFIC": "bold dark_orange",
            "FAIL": "bold red",
            "INCONCLUSIVE": "bold yellow",
            "ERROR": "bold magenta",
        }
        t = Table(title=f"{self.suite}" + (f": {self.title}" if self.title else ""), caption=self.summary_line(), expand=True)
        for h in self._header:
            # numbers and verdicts never wrap; words wrap in the text columns
            fixed = h in ("verdict", "seeds", "pass region", "statistic [95 % CI]")
            width = min(12, max((len(p.case) for p in self.predictions), default=4)) if h == "case" else None
            t.add_column(
                h,
                no_wrap=fixed,
                overflow="ellipsis" if fixed else "fold",
                min_width=width,
                ratio=None if fixed else {"claim": 3, "case": 1}.get(h, 2),
            )
        for row, p in zip(self._rows(), self.predictions):
            row = [escape(c) for c in row]
            row[4] = f"[{style[p.verdict.value]}]{row[4]}[/]"
            t.add_row(*row)
        return t


# --------------------------------------------------------------------------------------------
# Statistics


def bootstrap_ci(s: SeedStatistics, *, n_resamples: int = N_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """95 % BCa bootstrap interval of `s.statistic` over seeds (percentile where BCa is undefined)."""
    samples = tuple(np.asarray(x, dtype=float) for x in s.samples)
    point = s.mean
    if all(np.ptp(x) == 0 for x in samples):
        return (point, point)
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = stats.bootstrap(
                samples,
                s.statistic,
                paired=False,
                vectorized=True,
                n_resamples=n_resamples,
                confidence_level=CONFIDENCE,
                method=method,
                rng=np.random.default_rng(seed),
            )
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(lo) and math.isfinite(hi):
            return (min(lo, point), max(hi, point))
    return (point, point)


def seed_rule(passing: int, n: int, q: float) -> str:
    f = passing / n
    if f >= q - _EPS:
        return "pass"
    if 1 - f >= q - _EPS:
        return "fail"
    return "inconclusive"


def decide(test: AbstractTest, s: SeedStatistics) -> tuple[Verdict, tuple[float, float] | None, str, dict[str, Any]]:
    """Across-seed verdict of per-seed statistics: (verdict, 95 % CI, reason, detail)."""
    n = len(s.values)
    k = int(np.sum(s.passed))
    q = test.seeds_at_least
    region = format_region(s.region)
    if n < 2:
        return Verdict.INCONCLUSIVE, None, f"only {n} seed: no interval can be formed; run ≥ 2 seeds (10 recommended)", {}
    ci = bootstrap_ci(s)
    by_seeds = seed_rule(k, n, q)
    by_interval, extra = test.interval_verdict(s, ci)
    ci_text = f"95 % CI [{ci[0]:.4g}, {ci[1]:.4g}]"
    if "p_tost" in extra:
        ci_text = f"TOST p = {extra['p_tost']:.3g} (90 % t-CI [{extra['ci90_t'][0]:.4g}, {extra['ci90_t'][1]:.4g}])"
    seeds_text = f"{k}/{n} seeds pass (PASS needs ≥ {q:.0%}, FAIL ≤ {1 - q:.0%})"
    where = {
        "pass": f"inside {region}",
        "fail": f"outside {region}",
        "inconclusive": f"straddles or touches the bound of {region}",
    }[by_interval]
    if "p_tost" in extra:
        where = {
            "pass": f"shows |·| < {s.region[1]:.4g}",
            "fail": f"shows |·| > {s.region[1]:.4g}",
            "inconclusive": "shows neither equivalence nor difference",
        }[by_interval]
    reason = f"{seeds_text}; {ci_text} {where}"
    if by_seeds == by_interval == "pass":
        verdict = Verdict.PASS
    elif by_seeds == by_interval == "fail":
        verdict = Verdict.FAIL
    else:
        verdict = Verdict.INCONCLUSIVE
        if by_seeds != "inconclusive" and by_interval != "inconclusive":
            reason += f" (seeds say {by_seeds.upper()}, the interval says {by_interval.upper()})"
    return verdict, ci, reason, extra


# --------------------------------------------------------------------------------------------
# Evaluation


def _dump(x: Any) -> Any:
    return x.model_dump(mode="json") if hasattr(x, "model_dump") else x


def _usable(ds: xr.Dataset | None, case_id: str, expected_hash: str | None, what: str = "case") -> str | None:
    """Why a stored case cannot be scored, or None."""
    if ds is None:
        return f"{what} {case_id!r} has no complete result in the store; run `rgbench run` to compute it"
    status = str(ds.attrs.get("status", ""))
    if status.startswith("corrupted"):
        return f"{what} {case_id!r} is {status}; `rgbench run` recomputes it (`rgbench verify STORE` lists every case)"
    if status.startswith("failed"):
        return f"{what} {case_id!r} {status}; fix it and rerun the case"
    if status == "diverged":
        seeds = _diverged_seeds(ds)
        return f"{what} {case_id!r} diverged{f' (seeds {seeds})' if seeds else ''}; lower `train.lr` or set `train.clip`"
    if status != "complete":
        return f"{what} {case_id!r} has status {status or 'none'!r}, not 'complete'; rerun it"
    seeds = _diverged_seeds(ds)
    if seeds:
        return f"{what} {case_id!r}: seeds {seeds} diverged; lower `train.lr` or set `train.clip`"
    version = ds.attrs.get("data_format_version")
    if version is not None and int(version) != DATA_FORMAT_VERSION:
        return (
            f"{what} {case_id!r} was written in data format v{int(version)}; this rgbench reads v{DATA_FORMAT_VERSION}: "
            "rerun the case or score with the matching rgbench version"
        )
    stored = ds.attrs.get("spec_hash", ds.attrs.get("rgbench_complete"))
    if expected_hash is not None and stored is not None and str(stored) != str(expected_hash):
        return (
            f"{what} {case_id!r} in the store was computed from a different spec (hash {stored}, suite has "
            f"{expected_hash}); rerun it with `rgbench run` or score with the suite it was run from"
        )
    return None


def _diverged_seeds(ds: xr.Dataset) -> list[int]:
    if "diverged" not in ds.data_vars:
        return []
    d = np.asarray(ds["diverged"].values, dtype=bool).reshape(-1)
    seeds = ds["seed"].values if "seed" in ds.coords else np.arange(len(d))
    return [int(s) for s in np.asarray(seeds)[d]]


def evaluate_prediction(
    prediction: Any, case_id: str, datasets: dict[str, xr.Dataset], hashes: dict[str, str | None] | None = None
) -> PredictionResult:
    """Verdict of one prediction of case `case_id`, reading `datasets` (case id → stored dataset).

    The test is evaluated on the case and on each of the prediction's nulls. A null that is ERROR
    makes the prediction ERROR; a PASS with a null that PASSes or is INCONCLUSIVE is NONSPECIFIC.
    """
    own = _evaluate(prediction, case_id, datasets, hashes or {})
    nulls = tuple(getattr(prediction, "nulls", None) or ())
    if not nulls:
        return own
    results = []
    for ref in nulls:
        target, variant = prediction.null_variant(ref)
        r = _evaluate(variant, target or case_id, datasets, hashes or {}, what="null case")
        results.append(
            NullResult(
                ref=ref.label(),
                case=target or case_id,
                stage=ref.stage,
                compare_to=ref.compare_to,
                verdict=r.verdict,
                statistic=r.statistic,
                ci=r.ci,
                seeds_passing=r.seeds_passing,
                seeds=r.seeds,
                reason=r.reason,
                per_seed=r.per_seed,
            )
        )
    verdict, reason = own.verdict, own.reason
    broken = [n for n in results if n.verdict is Verdict.ERROR]
    blocking = [n for n in results if n.blocks]
    if verdict is not Verdict.ERROR and broken:
        verdict = Verdict.ERROR
        reason = "; ".join(f"null {n.ref!r} cannot be scored: {n.reason}" for n in broken)
    elif verdict is Verdict.PASS and blocking:
        verdict = Verdict.NONSPECIFIC
        also = "; ".join(
            f"{n.ref!r} {n.verdict.value} ({_ci_text(n.statistic, n.ci)}, {n.seeds_passing}/{n.seeds} seeds)" for n in blocking
        )
        reason = f"the test passes ({reason}), but it also passes or cannot be told from passing on the null {also}"
    return replace(own, verdict=verdict, reason=reason, nulls=tuple(results), test_verdict=own.verdict)


def _evaluate(
    prediction: Any, case_id: str, datasets: dict[str, xr.Dataset], hashes: dict[str, str | None], *, what: str = "case"
) -> PredictionResult:
    obs: AbstractObservable = prediction.observable
    test: AbstractTest = prediction.test
    stage, layers, role = prediction.stage, prediction.layers, getattr(prediction, "role", "all")
    compare_to, against = test.reference()
    spec = {"observable": _dump(obs), "test": _dump(test), "stage": stage, "layers": layers, "role": role}
    rstage, rlayers = resolved_selection(obs, stage, layers)
    base = dict(
        case=case_id,
        claim=prediction.claim,
        observable=obs.kind,
        test=test.kind,
        spec=spec,
        observable_label=obs.label(stage, layers, role),
        test_label=test.label(),
        threshold=getattr(test, "region", None),
        seeds_at_least=test.seeds_at_least,
    )

    def error(reason: str) -> PredictionResult:
        return PredictionResult(verdict=Verdict.ERROR, reason=reason, **base)

    problem = _usable(datasets.get(case_id), case_id, hashes.get(case_id), what)
    if problem:
        return error(problem)
    ds = datasets[case_id]
    try:
        obs.check_selection(rstage, rlayers, role, resolved=True)
        test.check_observable(obs, stage)
        x = obs.values(ds, stage=stage, layers=layers, role=role)
        ref = None
        if compare_to is not None:
            problem = _usable(datasets.get(compare_to), compare_to, hashes.get(compare_to), "reference case")
            if problem:
                return error(problem)
            ref = obs.values(datasets[compare_to], stage=stage, layers=layers, role=role)
        elif against is not None:
            ref = obs.values(ds, stage=against, layers=layers, role=role)
        s = test.seed_statistics(x, ref)
    except (ObservableUnavailable, ValueError) as e:
        return error(str(e))
    except Exception as e:  # noqa: BLE001 - stored data is input: whatever reading it raises is this case's ERROR
        return error(
            f"the stored data cannot be read as this prediction needs ({type(e).__name__}: {e}); check the "
            "store with `rgbench verify` or rerun the case with --force"
        )
    if not math.isfinite(s.mean):
        bad = [str(seed) for seed, v in zip(s.seeds, np.asarray(s.values, dtype=float)) if not np.isfinite(v)]
        return error(
            f"the statistic is not finite (mean {s.mean}{'; seeds ' + ', '.join(bad) if bad else ''}): no "
            f"verdict can rest on it; check the store with `rgbench verify` or rerun the case with --force"
        )
    verdict, ci, reason, extra = decide(test, s)
    per_seed = {
        "seed": [int(v) if np.issubdtype(np.asarray(v).dtype, np.integer) else str(v) for v in s.seeds],
        "statistic": [float(v) for v in s.values],
        "passed": [bool(v) for v in s.passed],
    }
    return PredictionResult(
        verdict=verdict,
        statistic=s.mean,
        ci=ci,
        seeds_passing=int(np.sum(s.passed)),
        seeds=len(s.values),
        reason=reason,
        per_seed=per_seed,
        detail={**s.detail, **extra},
        **{**base, "threshold": s.region},
    )


def _summary(case: Any, ds: xr.Dataset | None) -> CaseSummary:
    status = "missing" if ds is None else str(ds.attrs.get("status", "unknown"))
    version = None if ds is None or ds.attrs.get("data_format_version") is None else int(ds.attrs["data_format_version"])
    wall = None if ds is None or ds.attrs.get("wall_seconds") is None else float(ds.attrs["wall_seconds"])
    # The headline figures describe training (collapse and drift after training, loss gaps at the
    # end of it): an untrained case (train.steps 0, a control) has none, and so does not dilute a
    # leaderboard row's averages.
    trained = getattr(getattr(case, "train", None), "steps", None) != 0
    figures = case_figures(ds) if ds is not None and status == "complete" and trained else {k: None for k in FIGURES}
    return CaseSummary(
        case=case.id,
        architecture=_dump(case.architecture) or {},
        input=_dump(case.input) or {},
        status=status,
        data_format_version=version,
        spec_hash=None if ds is None else ds.attrs.get("spec_hash"),
        wall_seconds=wall,
        figures=figures,
    )


def score_datasets(datasets: dict[str, xr.Dataset], suite: Any, *, store: str | None = None) -> Report:
    """Score every prediction of `suite` against `datasets` (case id → dataset, as `open_results` returns).

    `suite` needs ``name`` (and optionally ``title``) and ``cases``; each case needs ``id``,
    ``predict`` and optionally ``hash``, ``architecture`` and ``input``.
    """
    hashes = {c.id: getattr(c, "hash", None) for c in suite.cases}
    results = [evaluate_prediction(p, c.id, datasets, hashes) for c in suite.cases for p in c.predict]
    cases = {c.id: _summary(c, datasets.get(c.id)) for c in suite.cases}
    versions = {v.data_format_version for v in cases.values() if v.data_format_version is not None}
    if len(versions) > 1:
        raise ScoreError(
            f"the store {store or ''} mixes data-format versions {sorted(versions)}; rerun the old cases "
            "with this rgbench so they share one version"
        )
    version = versions.pop() if versions else None
    return Report(
        suite=suite.name,
        title=getattr(suite, "title", "") or "",
        predictions=results,
        cases=cases,
        store=store,
        data_format_version=version,
    )


def _load_suite(path: str | Path, suite: Suite | str | Path | None) -> Suite:
    """The suite to score with: given, loaded from a file, or rebuilt from the store's provenance."""
    if isinstance(suite, (str, Path)):
        from .spec import load_suite

        return load_suite(suite)
    if suite is not None:
        return suite
    from .spec import suite_from_json, unknown_kinds
    from .store import Store

    try:
        text = Store(path).attrs().get("suite_json")
        if not text:
            raise KeyError("suite_json")
        missing = unknown_kinds(json.loads(text))
        if missing:
            raise ScoreError(
                f"the store {str(path)!r} was computed with kinds this rgbench does not have: "
                f"{', '.join(missing)}{_plugin_hint(path)}; install the package that provides them or "
                "pass `--plugin MODULE_OR_PATH`"
            )
        return suite_from_json(text)
    except (KeyError, FileNotFoundError, ValueError, TypeError) as e:
        raise ScoreError(
            f"the store {str(path)!r} carries no readable suite provenance ({e}); pass the suite file with --suite"
        ) from e


def _plugin_hint(path: str | Path) -> str:
    """' (from …)': the plugin sources the store's cases recorded, if any."""
    from .store import open_results

    sources: set[str] = set()
    try:
        for ds in open_results(path).values():
            sources.update(json.loads(ds.attrs.get("plugins", "{}")).values())
    except Exception:  # noqa: BLE001 - only a hint
        return ""
    return f" (recorded as coming from {', '.join(sorted(sources))})" if sources else ""


def score_store(path: str | Path, suite: Suite | str | Path | None = None) -> Report:
    """Score a results store. `suite`: a Suite, a suite file path, or None (read from the store's provenance)."""
    from .store import open_results

    if not Path(path).exists() and "://" not in str(path):
        raise ScoreError(f"no store at {str(path)!r}; run `rgbench run SUITE` first or check the path")
    suite = _load_suite(path, suite)
    return score_datasets(open_results(path), suite, store=str(path))


# --------------------------------------------------------------------------------------------
# CLI


def _cli_score(args: argparse.Namespace) -> int:
    try:
        report = score_store(args.store, args.suite)
    except ScoreError as e:
        print(f"rgbench score: {e}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(report.to_json())
    elif args.format == "markdown":
        print(report.to_markdown(), end="")
    else:
        from rich.markup import escape

        from ._console import console as make_console

        console = make_console()
        console.print(report.to_table())
        for note in report.notes():
            console.print(escape(note), highlight=False)
    return 1 if args.strict and not report.ok() else 0


def score(store: str | os.PathLike, suite: str | os.PathLike | Any = None, *, plugins: Sequence[str] = ()) -> Report:
    """The verdicts of a store, with the suite recorded in it unless `suite` is given: the notebook
    function, exported as ``rgbench.score`` (plugins named in `plugins` are imported first)."""
    from .plugins import load_plugins

    load_plugins(list(plugins))
    return score_store(store, suite)


callable_module(__name__, "score")
