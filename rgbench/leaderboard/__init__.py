"""Compare architectures across score reports: one row per architecture configuration and ranking.
It owns building the board and its rank intervals (here), which reports rank together (`_rankings`),
the score (`_margins`) and the board's renderings (`_render`); `rgbench._board_rules` states the rules
in words, as the board and ``rgbench list leaderboard`` print them.

Inputs are score reports (`rgbench.scoring.Report`), report JSON files (``rgbench score --format
json``) or result stores (scored on the fly with the suite they record). Reports that state the same
claim (its ``id:``, or its text) under the same criteria, all trained or all untrained, form one
ranking; a board over several holds one section per ranking (`Leaderboard.sections`), and rows are
compared only within one. In a ranking every case joins the row of its resolved ``architecture``.

A row shows:

* claims supported / scored — PASS over the claims (``purpose: claim``) of its cases (ERROR and
  NONSPECIFIC are not support) — and the verdict of every claim, a column per claim (a row with
  several predictions of one claim shows each, e.g. ``INC/PASS``); diagnostics are never support,
  those that did not pass are listed beside the row (`Row.badges`);
* its score — the mean specific margin over the claims every ranked row states (`Leaderboard.shared`,
  `_margins`) — with a 95 % interval and a rank interval from resampling seeds within each case (one
  draw per case, shared by its predictions and the nulls that read it) and recomputing every margin;
  `Leaderboard.beats` holds the share of replicates in which one row's score exceeds another's. Rows
  whose rank intervals overlap are not distinguishable; rows are listed by rank interval;
* the agreement fraction (descriptive), figures with 95 % bootstrap intervals over seeds (rank
  collapse, top-2 drift share, loss gaps to the Bayes and tokenwise floors; from ``figures_from``'s
  cases where given) and what the network costs (parameters, training FLOPs and wall time per seed).

Rows with no scored claim are listed apart and never ranked. Reports written in different
data-format versions are refused (`MixedFormatError`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from .._modules import callable_module
from ..scoring import FIGURES, Report, ScoreError, Verdict, score_store
from . import _render
from ._margins import _agree_samples, _SeedDraws, specific_margins
from ._rankings import PENDING, _case_cost, _case_wall, _column_keys, _labels, _pending, _rankings, _resumed

__all__ = [
    "Leaderboard",
    "Row",
    "Interval",
    "LeaderboardError",
    "MixedFormatError",
    "build_leaderboard",
    "load_report",
    "reference_reports",
]


class LeaderboardError(Exception):
    """A leaderboard that cannot be built as asked (the message says what to do)."""


class MixedFormatError(LeaderboardError):
    """Reports written in different data-format versions cannot share a leaderboard."""


@dataclass(frozen=True)
class Interval:
    """A point value with a 95 % interval."""

    value: float
    lo: float
    hi: float

    def text(self, fmt: str = ".3g") -> str:
        return f"{self.value:{fmt}} [{self.lo:{fmt}}, {self.hi:{fmt}}]"

    def to_list(self) -> list[float]:
        return [self.value, self.lo, self.hi]


@dataclass
class Row:
    """One architecture configuration."""

    label: str
    architecture: dict[str, Any]
    cases: list[str]
    agreed: int
    scored: int
    errors: int
    nonspecific: int
    verdicts: dict[str, str]
    agreement: Interval
    rank: tuple[int, int]
    figures: dict[str, Interval | None] = field(default_factory=dict)
    wall_seconds: float | None = None
    #: the row's diagnostics (``purpose: diagnostic``): key → verdict(s); never counted as support
    diagnostics: dict[str, str] = field(default_factory=dict)
    #: what the row's network costs: parameters, training FLOPs of one seed (mean over its trained
    #: cases, `rgbench.cost.training_cost`) and its cases' wall seconds over the seeds they trained
    params: int | None = None
    train_flops: float | None = None
    wall_per_seed: float | None = None
    #: a case resumed training from a checkpoint: its time before the resume is extrapolated (`_case_wall`)
    wall_extrapolated: bool = False
    #: claims that wait on a case not yet in its store (`_pending`): shown PENDING, neither scored nor ranked
    pending: int = 0
    #: the row's cases that have no result in their store yet
    missing: int = 0
    #: per claim key, each of the row's predictions of it: case, verdict, statistic and its interval, and
    #: its specific margin (`_margins`; the score averages those of the shared claims; None while pending)
    cells: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: the ranking score: mean specific margin over the board's shared claims, 95 % interval (`_margins`)
    score: Interval | None = None
    #: the ranking the row belongs to (its suites, `_rankings`): rows of different rankings are never compared
    ranking: str = ""

    @property
    def badges(self) -> list[str]:
        """A diagnostic that did not pass, as a badge beside the row (e.g. "FAIL: the network uses context")."""
        return [f"{v}: {k}" for k, v in self.diagnostics.items() if set(v.split(" / ")) - {"PASS", PENDING}]

    @property
    def rank_text(self) -> str:
        lo, hi = self.rank
        if lo == 0:
            return "—"  # not ranked: no claim shared with the other rows
        return f"{lo}" if lo == hi else f"{lo}–{hi}"


@dataclass
class Leaderboard:
    rows: list[Row]
    claims: list[str]  # column keys: a claim's stable id, or its text where its suite gives none
    sources: list[str]
    data_format_version: int | None
    n_resamples: int
    unranked: list[Row] = field(default_factory=list)  # rows with no scored claim: listed apart, never ranked
    claim_texts: dict[str, str] = field(default_factory=dict)  # column key → the claim in words
    claim_tests: dict[str, str] = field(default_factory=dict)  # column key → its test and pass region
    shared: list[str] = field(default_factory=list)  # the claims every ranked row states: what the rank is on
    beats: dict[str, dict[str, float]] = field(default_factory=dict)  # row → row → P(its score is higher)
    commits: dict[str, list[str]] = field(default_factory=dict)  # source → the git commits its cases ran at
    #: the ranking's name (its suites; "(untrained)" where none trains) and whether its networks train
    name: str = ""
    trained: bool = True
    #: a board over reports that form several rankings: one board per ranking (rows are never compared
    #: across them); `rows`, `claims` and `unranked` are then those of every section, in order
    sections: list[Leaderboard] = field(default_factory=list)
    #: the case ids whose figures the rows report (`--figures-from`; None: every case of the row)
    figures_from: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trained": self.trained,
            "sources": self.sources,
            "data_format_version": self.data_format_version,
            "n_resamples": self.n_resamples,
            "figures_from": self.figures_from,
            "rankings": [b.to_dict() for b in self.sections],
            "claims": self.claims,
            "claim_texts": {k: self.claim_texts.get(k, k) for k in self.claims},
            "claim_tests": {k: self.claim_tests.get(k, "") for k in self.claims},
            "shared_claims": self.shared,
            "probability_of_beating": self.beats,
            "commits": self.commits,
            "rows": [
                {
                    "label": r.label,
                    "ranking": r.ranking,
                    "architecture": r.architecture,
                    "cases": r.cases,
                    "rank": list(r.rank),
                    "agreed": r.agreed,
                    "scored": r.scored,
                    "errors": r.errors,
                    "nonspecific": r.nonspecific,
                    "agreement": r.agreement.to_list(),
                    "verdicts": r.verdicts,
                    "diagnostics": r.diagnostics,
                    "figures": {k: (None if v is None else v.to_list()) for k, v in r.figures.items()},
                    "wall_seconds": r.wall_seconds,
                    "params": r.params,
                    "train_flops_per_seed": r.train_flops,
                    "wall_seconds_per_seed": r.wall_per_seed,
                    "wall_extrapolated": r.wall_extrapolated,
                    "pending": r.pending,
                    "missing": r.missing,
                    "cells": r.cells,
                    "score": None if r.score is None else r.score.to_list(),
                }
                for r in self.rows
            ],
            "unranked": [
                {
                    "label": r.label,
                    "ranking": r.ranking,
                    "architecture": r.architecture,
                    "cases": r.cases,
                    "figures": {k: (None if v is None else v.to_list()) for k, v in r.figures.items()},
                    "wall_seconds": r.wall_seconds,
                    "pending": r.pending,
                    "missing": r.missing,
                }
                for r in self.unranked
            ],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    # Renderings (`rgbench.leaderboard._render`)

    def _repr_html_(self) -> str:  # Jupyter
        return _render.to_html(self, full=False)

    def to_pandas(self):
        """One row per ranked architecture, the CSV's columns — a `pandas.DataFrame`."""
        return _render.to_pandas(self)

    def to_markdown(self) -> str:
        return _render.to_markdown(self)

    def to_csv(self) -> str:
        return _render.to_csv(self)

    def to_html(self, full: bool = True, heatmap_png: bytes | None = None) -> str:
        """An HTML table (a whole page when `full`, with the heatmap `heatmap_png` embedded where given)."""
        return _render.to_html(self, full, heatmap_png)


# --------------------------------------------------------------------------------------------
# Building


def load_report(source: Report | str | Path) -> Report:
    """A Report from a Report, a report JSON file, or a results store (scored with its recorded suite)."""
    if isinstance(source, Report):
        return source
    path = Path(source)
    if path.suffix == ".json" and path.is_file():
        try:
            return Report.from_json(path.read_text())
        except (json.JSONDecodeError, ScoreError, KeyError, TypeError) as e:
            raise LeaderboardError(
                f"{path} is not a score report ({e}); write one with `rgbench score STORE --format json`"
            ) from e
    return score_store(path)


def reference_reports() -> list[Path]:
    """The score reports of the shipped stores (``results/*.score.json``, installed as the package
    ``rgbench.results``): what ``rgbench leaderboard STORE --reference`` puts beside a store. The
    rankings (`_rankings`) keep each report with the claims it shares, so a store joins the reference
    rows whose claims it states under the same criteria. Read from the repository's results/ where
    the package is not installed (a bare checkout on the path)."""
    from importlib.resources import files

    try:
        where = Path(str(files("rgbench.results")))
    except ModuleNotFoundError:
        where = Path(__file__).resolve().parents[2] / "results"
    found = sorted(where.glob("*.score.json"))
    if not found:
        raise LeaderboardError(f"no reference score reports in {where} (this installation ships none)")
    return found


def _arch_key(arch: dict[str, Any]) -> str:
    return json.dumps(arch, sort_keys=True)


def build_leaderboard(
    reports_or_paths: list[Report | str | Path], *, figures_from: list[str] | None = None, n_resamples: int = 2000, seed: int = 0
) -> Leaderboard:
    """One row per architecture configuration and ranking (see the module docstring).

    Reports whose claims are the same claims under the same criteria form one ranking (`_rankings`);
    where the reports form several, the board holds one section per ranking (`Leaderboard.sections`).
    `figures_from`: case ids whose figures a row reports (default: all of the row's cases).
    """
    reports, sources, version = _load_reports(reports_or_paths)
    draw = _SeedDraws(np.random.default_rng(seed), n_resamples)
    sections = [
        _ranking(reports, members, _column_keys(reports, members), draw, figures_from, name=name, trained=trained)
        for members, name, trained in _rankings(reports)
    ]
    common = dict(
        commits=_commits(reports, sources),
        sources=sources,
        data_format_version=version,
        n_resamples=n_resamples,
        figures_from=None if figures_from is None else list(figures_from),
    )
    if len(sections) == 1:
        board = sections[0]
        board.sources, board.commits, board.figures_from = common["sources"], common["commits"], common["figures_from"]
        return board
    claims: dict[str, str] = {}
    tests: dict[str, str] = {}
    for b in sections:
        for c in b.claims:
            claims.setdefault(c, b.claim_texts.get(c, c))
            tests.setdefault(c, b.claim_tests.get(c, ""))
    return Leaderboard(
        rows=[r for b in sections for r in b.rows],
        claims=list(claims),
        claim_texts=claims,
        claim_tests=tests,
        unranked=[r for b in sections for r in b.unranked],
        sections=sections,
        **common,
    )


def _ranking(
    reports: list[Report],
    members: list[int],
    columns: dict[tuple[int, int], str],
    draw: _SeedDraws,
    figures_from: list[str] | None,
    *,
    name: str,
    trained: bool,
) -> Leaderboard:
    """The board of one ranking: the reports `members` (indices into `reports`)."""
    groups = _groups(reports, members)
    claims: dict[str, str] = {}  # column key → text, in order of appearance
    tests: dict[str, str] = {}  # column key → test and pass region
    keys = list(groups)
    labels = _labels([groups[k]["arch"] for k in keys])
    scores = np.zeros((len(keys), draw.n_resamples))
    partial = []
    for gi, k in enumerate(keys):
        fields, scores[gi] = _row_fields(groups[k], labels[gi], reports, columns, (claims, tests), draw, figures_from)
        fields["ranking"] = name
        partial.append(fields)
    # The claims every row states, its pending ones included, so that a case landing never changes what
    # the other rows are scored on; a row is ranked once none of those claims waits on a case (`_pending`).
    shared = [c for c in claims if all(c in d["verdicts"] for d in partial if d["verdicts"])]
    for d in partial:
        waits = d.pop("waiting") & set(shared)
        d["rankable"] = bool(d["scored"]) and not waits
    margin_points, margin_samples = _scores(partial, shared, draw.n_resamples)
    rows, unranked, beats = _ranked(partial, scores, margin_points, margin_samples, ranked=bool(shared))
    sources = [reports[ri].store or reports[ri].suite for ri in members]
    return Leaderboard(
        shared=shared,
        beats=beats,
        rows=rows,
        claims=list(claims),
        claim_texts=claims,
        claim_tests=tests,
        commits=_commits([reports[ri] for ri in members], sources),
        sources=sources,
        data_format_version=next((reports[ri].data_format_version for ri in members if reports[ri].data_format_version), None),
        n_resamples=draw.n_resamples,
        unranked=unranked,
        name=name,
        trained=trained,
    )


def _load_reports(reports_or_paths: list[Report | str | Path]) -> tuple[list[Report], list[str], int | None]:
    """The reports, their sources (store or suite) and their one data-format version (None: unknown)."""
    if not reports_or_paths:
        raise LeaderboardError("no reports or stores given; pass at least one results store or report JSON")
    reports = [load_report(x) for x in reports_or_paths]
    sources = [r.store or r.suite for r in reports]
    versions = {r.data_format_version: s for r, s in zip(reports, sources) if r.data_format_version is not None}
    if len(versions) > 1:
        listing = ", ".join(f"v{v} ({s})" for v, s in sorted(versions.items()))
        raise MixedFormatError(
            f"these stores were written in different data formats: {listing}. Rerun the older "
            "suites with this rgbench (`rgbench run SUITE`) or build one leaderboard per format"
        )
    return reports, sources, next(iter(versions), None)


def _groups(reports: list[Report], members: list[int]) -> dict[str, dict[str, Any]]:
    """Architecture key → {"arch", "cases": [(report index, CaseSummary)], "preds": [(report index,
    prediction index, result)]} over the reports `members`."""
    groups: dict[str, dict[str, Any]] = {}
    for ri in members:
        rep = reports[ri]
        for cid, cs in rep.cases.items():
            g = groups.setdefault(_arch_key(cs.architecture), {"arch": cs.architecture, "cases": [], "preds": []})
            g["cases"].append((ri, cs))
        for pi, p in enumerate(rep.predictions):
            cs = rep.cases.get(p.case)
            arch = cs.architecture if cs is not None else {}
            g = groups.setdefault(_arch_key(arch), {"arch": arch, "cases": [], "preds": []})
            g["preds"].append((ri, pi, p))
    return {k: g for k, g in groups.items() if g["preds"] or g["cases"]}


def _row_fields(
    g: dict[str, Any],
    label: str,
    reports: list[Report],
    columns: dict[tuple[int, int], str],
    known: tuple[dict[str, str], dict[str, str]],
    draw: _SeedDraws,
    figures_from: list[str] | None,
) -> tuple[dict[str, Any], np.ndarray | float]:
    """A row's fields except agreement and rank, and its agreement fraction per replicate; adds the
    row's new claims to `known` (key → text, key → test). Only claims count; diagnostics are listed apart."""
    claims, tests = known
    n_resamples = draw.n_resamples
    cells: dict[str, list[dict[str, Any]]] = {}
    by_pred: dict[tuple[int, int], dict[str, Any]] = {}
    margins: dict[str, list[tuple[float, np.ndarray]]] = {}
    verdicts: dict[str, str] = {}
    diagnostics: dict[str, str] = {}
    agree = np.zeros(n_resamples)
    waiting = {(ri, pi) for ri, pi, p in g["preds"] if _pending(reports[ri], p)}  # a store still being computed
    shown = {(ri, pi): PENDING if (ri, pi) in waiting else p.verdict.value for ri, pi, p in g["preds"]}
    for ri, pi, p in g["preds"]:
        if p.purpose != "claim":
            key, v = p.claim_id or p.claim, shown[(ri, pi)]
            diagnostics[key] = f"{diagnostics[key]} / {v}" if key in diagnostics else v
    claim_preds = [(ri, pi, p) for ri, pi, p in g["preds"] if p.purpose == "claim"]
    for ri, pi, p in claim_preds:
        key, v = columns[(ri, pi)], shown[(ri, pi)]
        verdicts[key] = f"{verdicts[key]} / {v}" if key in verdicts else v
        claims.setdefault(key, p.claim)
        tests.setdefault(key, f"{p.test_label or p.test}; pass region {p.threshold_text or '—'}")
        stat, ci = (None, None) if (ri, pi) in waiting else (p.statistic, p.ci)  # pending: no result yet
        cell = {"case": f"{reports[ri].suite}/{p.case}", "verdict": v, "statistic": stat, "ci": ci, "margin": None}
        cells.setdefault(key, []).append(cell)
        by_pred[(ri, pi)] = cell
    preds = [x for x in claim_preds if (x[0], x[1]) not in waiting]  # scored: every claim but the pending
    for ri, pi, p in preds:
        key = columns[(ri, pi)]
        null_draws = [draw(ri, n.case, len(n.per_seed.get("statistic", []))) for n in p.nulls]
        own = draw(ri, p.case, len(p.per_seed.get("statistic", [])))
        margin = specific_margins(p, own, null_draws)  # (point, per resample)
        margins.setdefault(key, []).append(margin)
        by_pred[(ri, pi)]["margin"] = float(margin[0])
        a = _agree_samples(p, own, null_draws)
        if a.size:
            agree += a
    scored = len(preds)
    cases = [cs for _, cs in g["cases"] if figures_from is None or cs.case in figures_from]
    figures = {
        name: _figure([cs.figures.get(name) for cs in cases if cs.status == "complete"], draw.rng, n_resamples)
        for name in FIGURES
    }
    walls = [w for _, cs in g["cases"] if (w := _case_wall(cs)) is not None]  # resumed cases extrapolated
    costs = [c for _, cs in g["cases"] if (c := _case_cost(cs)) is not None]
    # every case's wall time (a probe sweep's measurement included) over the seeds the row trained
    trained_seeds = sum(cs.seeds or 0 for _, cs in g["cases"] if cs.train_seconds != 0)
    trained = [flops for _, flops in costs if flops > 0]
    fields = dict(
        label=label,
        architecture=g["arch"],
        cases=[f"{reports[ri].suite}/{cs.case}" for ri, cs in g["cases"]],
        agreed=sum(p.verdict is Verdict.PASS for _, _, p in preds),
        scored=scored,
        errors=sum(p.verdict is Verdict.ERROR for _, _, p in preds),
        nonspecific=sum(p.verdict is Verdict.NONSPECIFIC for _, _, p in preds),
        verdicts=verdicts,
        diagnostics=diagnostics,
        cells=cells,
        margins=margins,
        figures=figures,
        wall_seconds=sum(walls) if walls else None,
        params=costs[0][0] if costs else None,
        train_flops=float(np.mean(trained)) if trained else None,
        wall_per_seed=sum(walls) / trained_seeds if walls and trained_seeds else None,
        wall_extrapolated=any(_resumed(cs) for _, cs in g["cases"]),
        pending=len(claim_preds) - len(preds),
        missing=sum(cs.status == "missing" for _, cs in g["cases"]),
        waiting={columns[(ri, pi)] for ri, pi, _ in claim_preds if (ri, pi) in waiting},
    )
    return fields, (agree / scored if scored else 0.0)


def _commits(reports: list[Report], sources: list[str]) -> dict[str, list[str]]:
    """Per source, the git commits its cases were run at (their pre-registration records)."""
    out: dict[str, list[str]] = {}
    for rep, src in zip(reports, sources):
        found = {
            str(c.preregistration.get("commit"))
            for c in rep.cases.values()
            if c.preregistration and c.preregistration.get("commit")
        }
        out[src] = sorted(found)
    return out


def _scores(partial: list[dict[str, Any]], shared: list[str], n_resamples: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row: its mean specific margin over the `shared` claims (a claim a row states twice: the
    mean of its predictions) — the point value (rows,) and one per resample (rows, n_resamples)."""
    points = np.zeros(len(partial))
    samples = np.zeros((len(partial), n_resamples))
    for gi, d in enumerate(partial):
        if not shared or not d["rankable"]:
            continue
        for key in shared:
            found = d["margins"][key]
            points[gi] += np.mean([pt for pt, _ in found]) / len(shared)
            samples[gi] += np.mean([smp for _, smp in found], axis=0) / len(shared)
    return points, samples


def _ranked(
    partial: list[dict[str, Any]], agree: np.ndarray, points: np.ndarray, samples: np.ndarray, *, ranked: bool
) -> tuple[list[Row], list[Row], dict[str, dict[str, float]]]:
    """The scored rows (by rank interval, best first; unranked — "—" — when the rows share no claim),
    the rows with no scored claim, and the probability that each row's score beats each other's."""
    # Rows with no scored claim (e.g. an architecture that appears only in cases without
    # predictions) have nothing to be ranked on: they are listed apart, not ranked level with a
    # row whose claims all failed; so are rows with a claim of the ranking still pending.
    fields = [{k: v for k, v in d.items() if k not in ("margins", "rankable")} for d in partial]
    scored_rows = [gi for gi, d in enumerate(partial) if d["rankable"]]
    unranked = [
        Row(agreement=Interval(0.0, 0.0, 0.0), rank=(0, 0), **fields[gi])
        for gi in range(len(partial))
        if not partial[gi]["rankable"]
    ]
    agree, points, samples = agree[scored_rows], points[scored_rows], samples[scored_rows]
    ranks = stats.rankdata(-samples, method="min", axis=0) if len(scored_rows) else np.zeros((0, samples.shape[1]))
    rows, mean_rank = [], []
    for i, gi in enumerate(scored_rows):
        d = fields[gi]
        point = d["agreed"] / d["scored"]
        a_lo, a_hi = np.percentile(agree[i], [2.5, 97.5])
        lo = int(np.percentile(ranks[i], 2.5, method="lower"))
        hi = int(np.percentile(ranks[i], 97.5, method="higher"))
        s_lo, s_hi = np.percentile(samples[i], [2.5, 97.5])
        score = Interval(float(points[i]), float(min(s_lo, points[i])), float(max(s_hi, points[i]))) if ranked else None
        agreement = Interval(point, float(min(a_lo, point)), float(max(a_hi, point)))
        rows.append(Row(agreement=agreement, rank=(lo, hi) if ranked else (0, 0), score=score, **d))
        mean_rank.append(float(np.mean(ranks[i])))
    beats: dict[str, dict[str, float]] = {}
    if ranked:
        for i, r in enumerate(rows):
            beats[r.label] = {
                o.label: float(np.mean(samples[i] > samples[j]) + 0.5 * np.mean(samples[i] == samples[j]))
                for j, o in enumerate(rows)
                if j != i
            }
    order = sorted(
        range(len(rows)),
        key=lambda i: (
            (rows[i].rank, mean_rank[i], -rows[i].agreement.value, rows[i].label)
            if ranked
            else (0, -rows[i].agreement.value, rows[i].label)
        ),
    )
    return [rows[i] for i in order], sorted(unranked, key=lambda r: r.label), beats


def _figure(per_case: list[list[float] | None], rng: np.random.Generator, n_resamples: int) -> Interval | None:
    """Mean over cases of the per-case seed mean, with a percentile bootstrap interval over seeds."""
    arrays = [np.asarray(x, dtype=float) for x in per_case if x]
    arrays = [a[np.isfinite(a)] for a in arrays]
    arrays = [a for a in arrays if a.size]
    if not arrays:
        return None
    point = float(np.mean([a.mean() for a in arrays]))
    boot = np.mean([a[rng.integers(0, a.size, size=(n_resamples, a.size))].mean(axis=1) for a in arrays], axis=0)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return Interval(point, float(min(lo, point)), float(max(hi, point)))


# --------------------------------------------------------------------------------------------
# CLI


def leaderboard(
    stores: Sequence[str | os.PathLike | Report],
    *,
    figures_from: Sequence[str] | None = None,
    plugins: Sequence[str] = (),
    **kwargs: Any,
) -> Leaderboard:
    """Architectures compared across stores or score reports: the notebook function, exported as
    ``rgbench.leaderboard`` (plugins named in `plugins` are imported first; `kwargs` go to
    `build_leaderboard`)."""
    from ..plugins import load_plugins

    load_plugins(list(plugins))
    items = [str(s) if isinstance(s, (str, os.PathLike)) else s for s in stores]
    return build_leaderboard(items, figures_from=None if figures_from is None else list(figures_from), **kwargs)


callable_module(__name__, "leaderboard")
