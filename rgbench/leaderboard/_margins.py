"""The score a leaderboard ranks rows by: the specific margin of each claim, with seed variation.

A claim's per-seed statistics x₁ … xₙ and its pass region give its **standardized margin**: how far
the seeds' mean lies inside the region, in units of the seeds' standard deviation —
(x̄ − lo)/s for ``≥ lo``, (hi − x̄)/s for ``≤ hi``, the nearer of the two inside ``[lo, hi]`` —
squashed to (−3, 3) by 3·tanh(m/3), so that no single claim with a tiny spread outweighs the rest
and the order of any two margins is kept. A claim's **specific margin** is the smaller of its own
margin and the negated margin of each of its nulls on the same test: large only when the claim
passes clearly *and* every null fails clearly (a NONSPECIFIC claim, whose null passes too, scores
below 0; an ERROR scores −3). A row's score is the mean specific margin over the claims every
ranked row states (the shared set), and its interval and rank interval come from resampling seeds
within each case and recomputing every margin (a stratified bootstrap, as rliable does over runs
within tasks; the mean rather than rliable's interquartile mean, since a row has 5–15 claims, not
hundreds of runs). The probability that row A beats row B is the share of resamples in which A's
score exceeds B's (ties count half) — rliable's "probability of improvement" on this score.

The interval has zero width only when no claim's seeds vary: resampling identical values changes
nothing, and any variation moves the margin (tanh is strictly increasing).

The agreement column beside it — the share of a row's claims that PASS, with its interval from
re-deciding every claim approximately on resampled seeds (`_agree_samples`) — is descriptive: a
claim decided the same way in every resample gives it no width, which is why the board does not rank
by it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ..registry import TESTS
from ..scoring import Verdict

__all__ = ["SQUASH", "standardized_margin", "specific_margins"]

_Z = 1.959963984540054

SQUASH = 3.0  # margins are squashed to (−SQUASH, SQUASH)


def standardized_margin(values: np.ndarray, region: tuple[float | None, float | None]) -> np.ndarray:
    """The squashed standardized margin of `values` (…, n) over their last axis, for a pass region."""
    lo, hi = region
    mean = values.mean(axis=-1)
    sd = values.std(axis=-1, ddof=1) if values.shape[-1] > 1 else np.zeros(mean.shape)
    sides = []
    if lo is not None:
        sides.append(mean - lo)
    if hi is not None:
        sides.append(hi - mean)
    if not sides:
        return np.zeros(np.shape(mean))
    gap = np.minimum.reduce(sides) if len(sides) > 1 else sides[0]
    gap, sd = np.asarray(gap, dtype=float), np.asarray(sd, dtype=float)
    # no spread: the margin is as large as can be on the side the mean lies (0 exactly on the bound)
    flat = np.where(gap > 0, math.inf, np.where(gap < 0, -math.inf, 0.0))
    m = np.divide(gap, sd, out=flat, where=sd > 0)
    return np.asarray(SQUASH * np.tanh(m / SQUASH))


def _values(result: Any) -> np.ndarray:
    return np.asarray(result.per_seed.get("statistic", []), dtype=float)


def specific_margins(p: Any, idx: np.ndarray | None, null_draws: list[np.ndarray | None]) -> tuple[float, np.ndarray]:
    """(point, per-replicate (B,)) specific margin of a prediction result `p` (see the module docstring).

    `idx` are its case's seed-resampling indices (B, n), `null_draws` those of each null's case."""
    B = 1 if idx is None else idx.shape[0]
    worst = (-SQUASH, np.full(B, -SQUASH))
    v = _values(p)
    if p.verdict.value == "ERROR" or p.threshold is None or idx is None or v.size < 2 or idx.shape[1] != v.size:
        return worst
    if not np.isfinite(v).all():
        return worst  # a diverged seed: nothing passes on missing data
    point = float(standardized_margin(v, p.threshold))
    samples = standardized_margin(v[idx], p.threshold)
    for null, nidx in zip(p.nulls, null_draws):
        nv = _values(null)
        if nidx is None or nv.size < 2 or nidx.shape[1] != nv.size or not np.isfinite(nv).all():
            return worst  # a null that cannot be read cannot be shown to fail
        point = min(point, -float(standardized_margin(nv, p.threshold)))
        samples = np.minimum(samples, -standardized_margin(nv[nidx], p.threshold))
    return point, samples


# The agreement fraction's resampling: would each claim be agreed (re-decided, approximately) on
# resampled seeds? Descriptive beside the score; not what the board ranks by.


def _resampled(p, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per replicate: would the test pass / fail on the resampled seeds? Two (B,) bool arrays.

    `p` is a prediction's or a null's result (per-seed statistics and the prediction's pass region)."""
    B = idx.shape[0]
    v = np.asarray(p.per_seed.get("statistic", []), dtype=float)
    ok = np.asarray(p.per_seed.get("passed", []), dtype=bool)
    n = len(v)
    never = np.zeros(B, dtype=bool)
    if p.verdict is Verdict.ERROR or n < 2 or idx.shape[1] != n:
        return never, never
    rv, rp = v[idx], ok[idx]
    frac = rp.mean(axis=1)
    m = rv.mean(axis=1)
    se = rv.std(axis=1, ddof=1) / math.sqrt(n)
    q = float(p.seeds_at_least)
    lo_b, hi_b = p.threshold
    if p.test == "equivalence":
        half = stats.t.ppf(0.95, n - 1) * se
        inside = (m - half > lo_b) & (m + half < hi_b)
        outside = (m - half > hi_b) | (m + half < lo_b)
    else:
        lo, hi = m - _Z * se, m + _Z * se
        inside = np.ones(B, dtype=bool)
        outside = np.zeros(B, dtype=bool)
        strict = TESTS[p.test].strict_interval if p.test in TESTS else True
        if lo_b is not None:
            inside &= (lo > lo_b) if strict else (lo >= lo_b)
            outside |= hi < lo_b
        if hi_b is not None:
            inside &= (hi < hi_b) if strict else (hi <= hi_b)
            outside |= lo > hi_b
    return (frac >= q - 1e-12) & inside, (1 - frac >= q - 1e-12) & outside


@dataclass(frozen=True)
class _NullView:
    """A null's result with its prediction's test, region and seed rule, as `_resampled` reads them."""

    verdict: Verdict
    per_seed: dict[str, list]
    seeds_at_least: float | None
    threshold: tuple[float | None, float | None] | None
    test: str


def _agree_samples(p, idx: np.ndarray | None, null_draws: list[np.ndarray | None] = ()) -> np.ndarray:
    """Per replicate: would this prediction be agreed on the resampled seeds? (B,) bool.

    `null_draws` holds the resampling indices of each of the prediction's nulls (None: no seeds)."""
    if p.verdict is Verdict.ERROR or idx is None:
        return np.zeros(0 if idx is None else idx.shape[0], dtype=bool)
    if p.seeds_at_least is None or p.threshold is None:
        return np.zeros(idx.shape[0], dtype=bool)
    agree, _ = _resampled(p, idx)
    for null, nidx in zip(p.nulls, null_draws):
        if nidx is None:
            return np.zeros(idx.shape[0], dtype=bool)
        _, fails = _resampled(_NullView(null.verdict, null.per_seed, p.seeds_at_least, p.threshold, p.test), nidx)
        agree &= fails
    return agree


class _SeedDraws:
    """Seed-resampling indices, (n_resamples, n), one draw per (report, case, seed count), shared by
    every prediction and null that reads that case; drawn from `rng` in the order first asked for."""

    def __init__(self, rng: np.random.Generator, n_resamples: int):
        self.rng, self.n_resamples = rng, n_resamples
        self.draws: dict[tuple[int, str, int], np.ndarray] = {}

    def __call__(self, ri: int, case: str, n: int) -> np.ndarray | None:
        if n < 1:
            return None
        key = (ri, case, n)
        if key not in self.draws:
            self.draws[key] = self.rng.integers(0, n, size=(self.n_resamples, n))
        return self.draws[key]
