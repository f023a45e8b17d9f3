"""The scorer's statistics (`rgbench.stats`) against closed forms and hand calculations, and a fast
coverage check that the calibrated interval passes and the previous BCa bootstrap fails."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from rgbench import stats


def test_t_interval_is_the_textbook_formula():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    half = sps.t.ppf(0.975, 4) * math.sqrt(2.5) / math.sqrt(5)  # s² = 2.5
    assert stats.t_interval(x) == pytest.approx((3 - half, 3 + half), rel=1e-12)
    assert stats.t_interval(x, 0.9)[1] - 3 == pytest.approx(sps.t.ppf(0.95, 4) * math.sqrt(0.5), rel=1e-12)


def test_hall_interval_is_t_on_symmetric_data_and_leans_to_the_long_tail():
    symmetric = np.array([1.0, 2.0, 3.0, 4.0, 5.0])  # third central moment exactly 0
    assert stats.hall_interval(symmetric) == pytest.approx(stats.t_interval(symmetric), rel=1e-12)
    skewed = np.array([1.0, 1.1, 1.2, 1.3, 4.0])  # long right tail
    lo, hi = stats.hall_interval(skewed)
    m = skewed.mean()
    assert hi - m > m - lo  # the interval reaches further towards the tail
    a, b = stats.mean_interval(skewed)
    t_lo, t_hi = stats.t_interval(skewed)
    assert a == min(lo, t_lo) and b == max(hi, t_hi)


def test_hall_transformation_inverts_exactly():
    # g(W) = ((1 + γW/3)³ − 1)/γ + γ/(6n); the interval's ends satisfy √n·g((x̄ − end)/s) = ∓q
    x = np.array([0.3, 0.5, 0.4, 2.0, 0.9, 1.4])
    n, m, s = len(x), x.mean(), x.std(ddof=1)
    gamma = np.mean((x - m) ** 3) / s**3
    q = sps.t.ppf(0.975, n - 1)
    lo, hi = stats.hall_interval(x)

    def g(w):
        return ((1 + gamma * w / 3) ** 3 - 1) / gamma + gamma / (6 * n)

    assert math.sqrt(n) * g((m - hi) / s) == pytest.approx(-q, rel=1e-9)
    assert math.sqrt(n) * g((m - lo) / s) == pytest.approx(q, rel=1e-9)


def test_zero_spread_gives_the_point_and_bad_input_is_refused():
    assert stats.mean_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)
    with pytest.raises(ValueError, match="at least 2"):
        stats.mean_interval([1.0])
    with pytest.raises(ValueError, match="finite"):
        stats.mean_interval([1.0, math.nan])
    with pytest.raises(ValueError, match="level"):
        stats.mean_interval([1.0, 2.0], 95.0)
    with pytest.raises(ValueError, match="positive"):
        stats.ratio_interval([1.0, -2.0])


def test_ratio_interval_is_the_exponentiated_t_interval_of_logs():
    r = np.array([0.8, 1.1, 1.3, 0.95, 1.2])
    lo, hi = stats.t_interval(np.log(r))
    assert stats.ratio_interval(r) == pytest.approx((math.exp(lo), math.exp(hi)), rel=1e-12)


def test_welch_interval_matches_the_welch_satterthwaite_formula():
    a, b = np.array([1.0, 2.0, 4.0]), np.array([0.0, 0.5, 0.7, 0.2])
    va, vb = a.var(ddof=1) / 3, b.var(ddof=1) / 4
    nu = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 3)
    half = sps.t.ppf(0.975, nu) * math.sqrt(va + vb)
    d = a.mean() - b.mean()
    assert stats.welch_interval(a, b) == pytest.approx((d - half, d + half), rel=1e-12)


def test_interval_pvalue_of_the_t_interval_is_the_two_sided_t_test():
    x = np.array([0.4, 0.9, 0.2, 0.7, 0.5, 0.8])
    se = x.std(ddof=1) / math.sqrt(len(x))
    p_pass, p_fail = stats.interval_pvalues(lambda level: stats.t_interval(x, level), (0.0, None))
    assert p_pass == pytest.approx(2 * sps.t.sf(x.mean() / se, len(x) - 1), rel=1e-6)
    assert p_fail == 1.0  # the mean is above the bound: no interval lies wholly below it
    p_pass, p_fail = stats.interval_pvalues(lambda level: stats.t_interval(x, level), (1.0, None))
    assert p_pass == 1.0
    assert p_fail == pytest.approx(2 * sps.t.sf((1.0 - x.mean()) / se, len(x) - 1), rel=1e-6)


def test_adjust_agrees_with_a_hand_calculation():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005·4, 0.01·3, 0.03·2, 0.04·1 = 0.02, 0.03, 0.06, 0.04 → running max 0.02, 0.03, 0.06, 0.06
    assert stats.adjust(p, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # Benjamini–Hochberg: p·m/rank = 0.02, 0.02, 0.04, 0.04 (running min from the top)
    assert stats.adjust(p, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert stats.adjust(p, "bonferroni") == pytest.approx([0.04, 0.16, 0.12, 0.02])
    assert stats.adjust(p, "none") == pytest.approx(p)
    with pytest.raises(ValueError, match="holm, bonferroni, bh, none"):
        stats.adjust(p, "sidak")


def test_clopper_pearson_and_the_binomial_seed_test_closed_forms():
    assert stats.clopper_pearson(0, 10) == pytest.approx((0.0, 1 - 0.025 ** (1 / 10)))
    assert stats.clopper_pearson(10, 10) == pytest.approx((0.025 ** (1 / 10), 1.0))
    p_pass, p_fail = stats.binomial_pvalues(10, 10, 0.8)
    assert p_pass == pytest.approx(2 * 0.8**10)  # P(K ≥ 10 | 0.8), doubled
    assert p_fail == 1.0
    p_pass, p_fail = stats.binomial_pvalues(3, 10, 0.8)
    assert p_fail == pytest.approx(2 * sps.binom.cdf(3, 10, 0.8))


class _Mean:
    def __init__(self, x):
        self.samples = (x,)
        self.mean = float(x.mean())

    @staticmethod
    def statistic(x, axis=-1):
        return np.mean(x, axis=axis)


def _coverage(method, n: int, replicates: int) -> float:
    draws = np.random.default_rng(12345).normal(size=(replicates, n))
    return float(np.mean([lo <= 0.0 <= hi for lo, hi in map(method, draws)]))


@pytest.mark.parametrize("n", [5, 10])
def test_the_calibrated_interval_covers_and_the_previous_bootstrap_does_not(n):
    """A fast version of benchmarks/coverage.py: 400 replicates, a tolerance of 0.92 (4 standard errors
    below 95 %) that the union interval clears and the BCa bootstrap at n = 5 (≈ 84 %) does not."""
    assert _coverage(stats.mean_interval, n, 400) >= 0.92
    if n == 5:
        assert _coverage(lambda x: stats.bootstrap_ci(_Mean(x), n_resamples=999), n, 400) < 0.92
