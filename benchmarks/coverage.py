"""Coverage of every interval the scorer uses, and the size of its tests, by simulation.

For each interval method, distribution of the per-seed values and number of seeds n, draws
`--replicates` independent sets of n values (fixed RNG seed) and counts how often the nominal 95 %
interval covers the true parameter: the mean (the geometric mean for the log-scale ratio interval,
the difference of means for the unpaired Welch interval). The tests' sizes are the probability that
they decide wrongly at the boundary: TOST declaring equivalence when |mean| = δ exactly (must be
≤ α = 0.05), and the seed rule declaring FAIL when the true pass fraction is exactly q (≤ α/2).

Each cell has its tolerance (the issue that set them: rgbench's "calibrated statistics"); a cell is
``ok`` when the measured value lies inside it. The scorer's intervals are the ones without "before"
or "reference" in their name; those two rows show what the scorer used before (the BCa bootstrap) and
the plain Student t, for comparison.

    python benchmarks/coverage.py [--json] [--replicates 4000] [--quick]

Exit status 1 if any cell of a scorer interval is outside its tolerance.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from rgbench import stats

LEVEL = 0.95
NS = (3, 5, 10, 20)


@dataclass(frozen=True)
class Distribution:
    name: str
    draw: Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]
    mean: float


DISTRIBUTIONS = {
    "normal": Distribution("normal", lambda r, s: r.normal(size=s), 0.0),
    "t3": Distribution("Student-t(3)", lambda r, s: r.standard_t(3, size=s), 0.0),
    "beta": Distribution("Beta(2, 5)", lambda r, s: r.beta(2, 5, size=s), 2 / 7),
    "lognormal": Distribution("lognormal(σ = 0.5)", lambda r, s: r.lognormal(0, 0.5, size=s), math.exp(0.125)),
}


def tolerance(dist: str, n: int) -> tuple[float, float] | None:
    """The coverage a scorer interval must reach (None: not a target cell, reported only)."""
    if dist == "lognormal":
        return (0.925, 1.0) if n >= 5 else None
    if n == 3:
        return (0.92, 0.98) if dist == "normal" else None
    return (0.935, 0.97)


class _Values:
    """Per-seed values as `bootstrap_ci` reads them (the mean of one sample)."""

    def __init__(self, x: np.ndarray):
        self.samples = (x,)
        self.mean = float(x.mean())

    @staticmethod
    def statistic(x, axis=-1):
        return np.mean(x, axis=axis)


def coverage(method: Callable[[np.ndarray], tuple[float, float]], draws: np.ndarray, target: float) -> float:
    hits = 0
    for x in draws:
        lo, hi = method(x)
        hits += lo <= target <= hi
    return hits / len(draws)


def interval_cells(replicates: int, *, bca_replicates: int, quick: bool) -> list[dict]:
    methods = {
        "mean: t ∪ Hall (scorer)": lambda x: stats.mean_interval(x, LEVEL),
        "mean: Student t (reference)": lambda x: stats.t_interval(x, LEVEL),
        "mean: BCa bootstrap (before)": lambda x: stats.bootstrap_ci(_Values(x), n_resamples=999 if quick else 1999, level=LEVEL),
    }
    cells = []
    for key, dist in DISTRIBUTIONS.items():
        for n in NS:
            rng = np.random.default_rng([n, list(DISTRIBUTIONS).index(key)])
            draws = dist.draw(rng, (replicates, n))
            for name, method in methods.items():
                reps = bca_replicates if "BCa" in name else replicates
                c = coverage(method, draws[:reps], dist.mean)
                tol = tolerance(key, n) if "scorer" in name else None
                cells.append(_cell("interval", name, dist.name, n, reps, c, tol))
    return cells


def _cell(kind: str, method: str, distribution: str, n: int, replicates: int, value: float, tol) -> dict:
    se = math.sqrt(max(value * (1 - value), 1e-12) / replicates)
    ok = None if tol is None else bool(tol[0] <= value <= tol[1])
    return {
        "kind": kind,
        "method": method,
        "distribution": distribution,
        "n": n,
        "replicates": replicates,
        "value": value,
        "standard_error": se,
        "tolerance": None if tol is None else list(tol),
        "ok": ok,
    }


def other_cells(replicates: int) -> list[dict]:
    cells = []
    for n in (5, 10, 20):
        rng = np.random.default_rng([n, 100])
        # log-scale ratio: lognormal ratios, target the geometric mean exp(E log X) = 1
        draws = rng.lognormal(0.0, 0.5, size=(replicates, n))
        c = coverage(lambda x: stats.ratio_interval(x, LEVEL), draws, 1.0)
        cells.append(_cell("interval", "ratio: t of logs (scorer)", "lognormal(σ = 0.5)", n, replicates, c, (0.935, 0.97)))
        # unpaired difference of two cases' means (Welch), normal and skewed
        for label, draw, tol in (
            ("normal", lambda s: rng.normal(size=s), (0.935, 0.97)),
            ("lognormal(σ = 0.5)", lambda s: rng.lognormal(0, 0.5, size=s), (0.925, 1.0)),
        ):
            a, b = draw((replicates, n)), draw((replicates, n))
            hits = sum(lo <= 0.0 <= hi for lo, hi in (stats.welch_interval(x, y, LEVEL) for x, y in zip(a, b)))
            cells.append(_cell("interval", "unpaired difference: Welch (scorer)", label, n, replicates, hits / replicates, tol))
        # TOST at the margin: mean = δ = 0.5 σ; size = P(equivalence declared) ≤ α = 0.05
        x = rng.normal(0.5, 1.0, size=(replicates, n))
        m, se = x.mean(axis=1), x.std(axis=1, ddof=1) / math.sqrt(n)
        t = sps.t(n - 1)
        p = np.maximum(t.sf((m + 0.5) / se), t.cdf((m - 0.5) / se))
        cells.append(
            _cell(
                "size", "TOST at the margin (α = 0.05)", "normal, mean = δ", n, replicates, float(np.mean(p < 0.05)), (0.0, 0.05)
            )
        )
    for n in (5, 10, 20):
        # the seed rule's FAIL at a true pass fraction of exactly q = 0.8: size ≤ α / 2 = 0.025
        rng = np.random.default_rng([n, 200])
        k = rng.binomial(n, 0.8, size=replicates)
        fails = np.array([stats.binomial_pvalues(int(kk), n, 0.8)[1] <= 0.05 for kk in k])
        cells.append(
            _cell(
                "size",
                "seed rule FAIL at q (α = 0.05)",
                "binomial, fraction = q = 0.8",
                n,
                replicates,
                float(fails.mean()),
                (0.0, 0.025),
            )
        )
    return cells


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the cells as JSON")
    parser.add_argument("--replicates", type=int, default=4000, help="replicates per cell (default 4000)")
    parser.add_argument("--quick", action="store_true", help="1,000 replicates and 400 for the bootstrap (a look, not the study)")
    args = parser.parse_args()
    reps = 1000 if args.quick else args.replicates
    cells = interval_cells(reps, bca_replicates=400 if args.quick else min(reps, 2000), quick=args.quick) + other_cells(reps)
    bad = [c for c in cells if c["ok"] is False]
    if args.json:
        print(json.dumps({"level": LEVEL, "cells": cells, "all_ok": not bad}, indent=1))
    else:
        print(f"{'kind':8s} {'method':38s} {'distribution':30s} {'n':>3s} {'reps':>5s} {'value':>7s} {'± se':>6s}  tolerance")
        for c in cells:
            tol = (
                "—"
                if c["tolerance"] is None
                else f"[{c['tolerance'][0]:.3f}, {c['tolerance'][1]:.3f}] {'ok' if c['ok'] else 'OUT'}"
            )
            print(
                f"{c['kind']:8s} {c['method']:38s} {c['distribution']:30s} {c['n']:3d} {c['replicates']:5d} "
                f"{c['value']:7.4f} {c['standard_error']:6.4f}  {tol}"
            )
        print(f"{len(cells) - len(bad)} of {len(cells)} cells within tolerance or not targets; {len(bad)} outside")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
