"""The statistics of scoring: intervals of an across-seed statistic, their p-values, multiplicity.

Numbers in, numbers out: this module knows nothing of suites, stores or predictions. (The
equivalence test's TOST is the `Equivalence` test's own `interval_verdict`, in `rgbench.predictions`,
which sits below scoring.) Public as `rgbench.stats`.

**The interval of a mean over seeds** (`mean_interval`) is the union of two intervals: Student's t,
exact for normal per-seed values and conservative for heavy symmetric tails, and Hall's (1992)
skewness-corrected t, which moves the interval towards the long tail of skewed values where the plain
t undercovers. The union keeps the coverage floor of both at the price of a slightly wider interval.
Measured by ``python benchmarks/coverage.py`` (4,000 replicates a cell; committed output in
``benchmarks/results/coverage.json``, quoted in docs/statistics.md), nominal 95 % covers 95.4–96.4 % on normal
data at n = 3–20 seeds, 95.4–96.6 % on Student-t(3) and 95.4–96.0 % on Beta(2, 5) data at n = 5–20,
and 93.9–95.6 % on lognormal(σ = 0.5) data, where the plain t reaches 91.9–93.3 % and the BCa
bootstrap the scorer used before 79.7–85.0 % at n = 5.

A paired difference is a mean of per-seed differences (the same interval). A ratio on the log scale
(`ratio_interval`) is the t interval of the mean log ratio, exponentiated: an interval for the
geometric mean of per-seed ratios, exact for lognormal ratios.

References: P. Hall (1992), "On the removal of skewness by transformation", J. R. Statist. Soc. B
54(1), 221–228; X.-H. Zhou and P. Dinh (2005), "Nonparametric confidence intervals for the one- and
two-sample problems", Biostatistics 6(2), 187–200; C. J. Clopper and E. S. Pearson (1934),
Biometrika 26(4), 404–413; S. Holm (1979), Scand. J. Statist. 6(2), 65–70.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = [
    "BOOTSTRAP_SEED",
    "N_RESAMPLES",
    "CONFIDENCE",
    "METHODS",
    "bootstrap_ci",
    "t_interval",
    "hall_interval",
    "mean_interval",
    "ratio_interval",
    "welch_interval",
    "interval_pvalues",
    "adjust",
    "clopper_pearson",
    "binomial_pvalues",
]

BOOTSTRAP_SEED = 0
N_RESAMPLES = 9999
CONFIDENCE = 0.95

#: Multiple-testing corrections `adjust` knows, as the suite language names them.
METHODS = ("holm", "bonferroni", "bh", "none")
_STATSMODELS = {"holm": "holm", "bonferroni": "bonferroni", "bh": "fdr_bh"}

Region = tuple[float | None, float | None]
Interval = Callable[[float], tuple[float, float]]


def _values(values: ArrayLike, *, at_least: int = 2) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"per-seed values must be a 1-D array; got shape {x.shape}")
    if len(x) < at_least:
        raise ValueError(f"an interval needs at least {at_least} values; got {len(x)}")
    if not np.all(np.isfinite(x)):
        raise ValueError("per-seed values must be finite (a diverged seed is scored ERROR before any interval)")
    return x


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), e.g. 0.95; got {level}")


def t_interval(values: ArrayLike, level: float = CONFIDENCE) -> tuple[float, float]:
    """Student's t interval of the mean: x̄ ± t_{n−1, (1+level)/2} · s/√n (s with n − 1)."""
    _check_level(level)
    x = _values(values)
    n, m, s = len(x), float(x.mean()), float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * s / math.sqrt(n)
    return (m - half, m + half)


def hall_interval(values: ArrayLike, level: float = CONFIDENCE) -> tuple[float, float]:
    """Hall's (1992) skewness-corrected t interval of the mean.

    With W = (x̄ − μ)/s and γ̂ = m₃/s³ (m₃ the third central sample moment), the statistic
    g(W) = W + γ̂W²/3 + γ̂²W³/27 + γ̂/(6n) = ((1 + γ̂W/3)³ − 1)/γ̂ + γ̂/(6n) is monotone in W and has
    √n·g(W) ≈ t_{n−1} with its skewness removed; inverting it gives
    μ ∈ [x̄ − s·g⁻¹(q/√n), x̄ − s·g⁻¹(−q/√n)], g⁻¹(y) = (3/γ̂)(∛(1 + γ̂(y − γ̂/(6n))) − 1).
    """
    _check_level(level)
    x = _values(values)
    n, m, s = len(x), float(x.mean()), float(x.std(ddof=1))
    if s == 0:
        return (m, m)
    gamma = float(np.mean((x - m) ** 3)) / s**3
    q = float(stats.t.ppf(0.5 + level / 2, n - 1))

    def inverse(y: float) -> float:
        y -= gamma / (6 * n)
        if abs(gamma) < 1e-8:
            return y
        return (3 / gamma) * (float(np.cbrt(1 + gamma * y)) - 1)

    return (m - s * inverse(q / math.sqrt(n)), m - s * inverse(-q / math.sqrt(n)))


def mean_interval(values: ArrayLike, level: float = CONFIDENCE) -> tuple[float, float]:
    """Interval for the mean of per-seed values at `level`: the union of `t_interval` and `hall_interval`
    (see the module docstring for why, and for its measured coverage). Zero spread gives (x̄, x̄)."""
    a, b = t_interval(values, level)
    c, d = hall_interval(values, level)
    return (min(a, c), max(b, d))


def ratio_interval(values: ArrayLike, level: float = CONFIDENCE) -> tuple[float, float]:
    """Interval for the geometric mean of positive per-seed ratios: exp of the t interval of their logs."""
    x = _values(values)
    if np.any(x <= 0):
        raise ValueError("a ratio on the log scale needs positive per-seed ratios")
    lo, hi = t_interval(np.log(x), level)
    return (math.exp(lo), math.exp(hi))


def welch_interval(a: ArrayLike, b: ArrayLike, level: float = CONFIDENCE) -> tuple[float, float]:
    """Welch's interval for mean(a) − mean(b) of two independent groups of seeds (unpaired comparisons):
    ± t_ν · √(s_a²/n_a + s_b²/n_b) with the Welch–Satterthwaite ν."""
    _check_level(level)
    x, y = _values(a), _values(b)
    va, vb = float(x.var(ddof=1)) / len(x), float(y.var(ddof=1)) / len(y)
    d, se = float(x.mean() - y.mean()), math.sqrt(va + vb)
    if se == 0:
        return (d, d)
    nu = (va + vb) ** 2 / (va**2 / (len(x) - 1) + vb**2 / (len(y) - 1))
    half = float(stats.t.ppf(0.5 + level / 2, nu)) * se
    return (d - half, d + half)


# --------------------------------------------------------------------------------------------
# p-values of an interval rule


def _inside(ci: tuple[float, float], region: Region, strict: bool) -> bool:
    lo, hi = region
    a, b = ci
    if strict:
        return (lo is None or a > lo) and (hi is None or b < hi)
    return (lo is None or a >= lo) and (hi is None or b <= hi)


def _outside(ci: tuple[float, float], region: Region) -> bool:
    lo, hi = region
    a, b = ci
    return (lo is not None and b < lo) or (hi is not None and a > hi)


def _smallest_alpha(holds: Callable[[float], bool], *, iterations: int = 60) -> float:
    """inf{α ∈ (0, 1): holds(α)} for a property that, once true, stays true as α grows (nested intervals)."""
    if not holds(1 - 1e-12):
        return 1.0
    lo, hi = 1e-16, 1 - 1e-12
    if holds(lo):
        return 0.0
    for _ in range(iterations):
        mid = math.sqrt(lo * hi) if hi < 0.01 else (lo + hi) / 2
        if holds(mid):
            hi = mid
        else:
            lo = mid
    return hi


def interval_pvalues(interval: Interval, region: Region, *, strict: bool = True) -> tuple[float, float]:
    """(p_pass, p_fail) of the interval rule for a family of nested intervals ``interval(level)``.

    p_pass is the smallest α at which the (1 − α) interval lies inside `region` (excluding its bounds
    when `strict`), p_fail the smallest α at which it lies wholly outside: the interval rule at level
    1 − α says PASS exactly when p_pass ≤ α, FAIL when p_fail ≤ α. With the two-sided convention of
    the reports, α = 0.05 is the 95 % interval, i.e. a one-sided test of each bound at 2.5 %.
    """
    p_pass = _smallest_alpha(lambda a: _inside(interval(1 - a), region, strict))
    p_fail = _smallest_alpha(lambda a: _outside(interval(1 - a), region))
    return p_pass, p_fail


# --------------------------------------------------------------------------------------------
# Multiplicity and seed counts


def adjust(pvalues: ArrayLike, method: str = "holm") -> np.ndarray:
    """Adjusted p-values, in input order, for a family of tests (statsmodels' ``multipletests``).

    ``holm`` (Holm's step-down, family-wise error), ``bonferroni``, ``bh`` (Benjamini–Hochberg, false
    discovery rate) or ``none``. A test is significant at family level α when its adjusted p ≤ α.
    """
    if method not in METHODS:
        raise ValueError(f"multiplicity method must be one of {', '.join(METHODS)}; got {method!r}")
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1 or np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError("p-values must be a 1-D array of numbers in [0, 1]")
    if method == "none" or len(p) == 0:
        return p.copy()
    from statsmodels.stats.multitest import multipletests

    return np.asarray(multipletests(p, method=_STATSMODELS[method])[1], dtype=float)


def clopper_pearson(k: int, n: int, level: float = CONFIDENCE) -> tuple[float, float]:
    """Clopper–Pearson (exact) interval of a binomial proportion: k successes of n."""
    _check_level(level)
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 ≤ k ≤ n and n ≥ 1; got k = {k}, n = {n}")
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a, k + 1, n - k))
    return (lo, hi)


def binomial_pvalues(k: int, n: int, q: float) -> tuple[float, float]:
    """(p_pass, p_fail) of the seed rule: exact one-sided binomial tests of the pass fraction against q.

    p_pass tests H₀: fraction ≤ q (evidence that more than a fraction q of seeds pass),
    p_fail tests H₀: fraction ≥ q (evidence that fewer do). Doubled, so that they sit on the same
    two-sided scale as `interval_pvalues` (α = 0.05 ↔ a 95 % Clopper–Pearson interval excluding q).
    """
    if not 0 < q < 1:
        raise ValueError(f"seeds_at_least must lie in (0, 1); got {q}")
    p_pass = float(stats.binom.sf(k - 1, n, q))  # P(K ≥ k | q)
    p_fail = float(stats.binom.cdf(k, n, q))  # P(K ≤ k | q)
    return min(1.0, 2 * p_pass), min(1.0, 2 * p_fail)


@runtime_checkable
class Resamplable(Protocol):
    """What `bootstrap_ci` reads of per-seed statistics (`rgbench.predictions.SeedStatistics` has it)."""

    @property
    def samples(self) -> Sequence[Any]: ...  # the arrays resampled (one per group of seeds)

    @property
    def statistic(self) -> Callable[..., Any]: ...  # the vectorized statistic of the samples

    @property
    def mean(self) -> float: ...  # its value on the samples themselves


def bootstrap_ci(
    s: Resamplable, *, n_resamples: int = N_RESAMPLES, seed: int = BOOTSTRAP_SEED, level: float = CONFIDENCE
) -> tuple[float, float]:
    """BCa bootstrap interval of `s.statistic` over seeds (percentile where BCa is undefined).

    Used only for statistics that are not a mean of per-seed values (an unpaired comparison of two
    cases' means, a scaling exponent); `benchmarks/coverage.py` measures how far it undercovers."""
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
                confidence_level=level,
                method=method,
                rng=np.random.default_rng(seed),
            )
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(lo) and math.isfinite(hi):
            return (min(lo, point), max(hi, point))
    return (point, point)
