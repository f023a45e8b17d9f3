"""The statistics of scoring: bootstrap intervals of an across-seed statistic.

Numbers in, numbers out: this module knows nothing of suites, stores or predictions. (The
equivalence test's TOST is the `Equivalence` test's own `interval_verdict`, in `rgbench.predictions`,
which sits below scoring.)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy import stats

__all__ = ["BOOTSTRAP_SEED", "N_RESAMPLES", "CONFIDENCE", "bootstrap_ci"]

BOOTSTRAP_SEED = 0
N_RESAMPLES = 9999
CONFIDENCE = 0.95


@runtime_checkable
class Resamplable(Protocol):
    """What `bootstrap_ci` reads of per-seed statistics (`rgbench.predictions.SeedStatistics` has it)."""

    @property
    def samples(self) -> Sequence[Any]: ...  # the arrays resampled (one per group of seeds)

    @property
    def statistic(self) -> Callable[..., Any]: ...  # the vectorized statistic of the samples

    @property
    def mean(self) -> float: ...  # its value on the samples themselves


def bootstrap_ci(s: Resamplable, *, n_resamples: int = N_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
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
