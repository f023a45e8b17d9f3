"""The tests a suite can name that compare an observable with a bound, another case or its own shape:
per-seed statistics of an observable, and the pass region of their mean (`_value_tests` holds the
tests against a predicted value).

The across-seed verdict rules they feed are in the docstring of `rgbench.predictions._base` (and
docs/statistics.md "Two rules that must agree"); each test's docstring gives its per-seed statistic and its default
``seeds_at_least``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from ..registry import TESTS
from ._base import (
    AbstractTest,
    AbstractVectorTest,
    ObservableUnavailable,
    SeedStatistics,
    Stage,
    format_region,
    in_region,
    scalar_per_seed,
    seed_mean,
    seeds_at_least_field,
)
from ._observables import top_share

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "Monotone",
    "Ratio",
    "Difference",
    "Concentration",
    "Plateau",
    "Equivalence",
    "Threshold",
]


Reduce = Literal["mean", "min", "max", "first", "last", "sum"]
#: The largest magnitude of a threshold or margin: finite, and far above any value an rgbench observable
#: takes (ranks ≤ width ≤ 65536, CKA, shares and ρ in [−1, 1], losses of a few nats), so that a number
#: past it is a typo (``delta: 9223372036854775808``), not a criterion.
MARGIN = 1e6
_REDUCE_FIELD = Field("mean", description="how a vector observable (e.g. along layer) becomes one value per seed")


class _Bounds(BaseModel):
    """Mixin: at_least / at_most bounds, at least one required."""

    at_least: float | None = Field(
        None, ge=-MARGIN, le=MARGIN, allow_inf_nan=False, description="pass if the statistic is ≥ this"
    )
    at_most: float | None = Field(None, ge=-MARGIN, le=MARGIN, allow_inf_nan=False, description="pass if the statistic is ≤ this")

    @model_validator(mode="after")
    def _one_bound(self):
        if self.at_least is None and self.at_most is None:
            raise ValueError(f"test {self.kind!r} needs `at_least`, `at_most` or both")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError(f"`at_least` ({self.at_least}) must not exceed `at_most` ({self.at_most})")
        return self

    @property
    def region(self) -> tuple[float | None, float | None]:
        return (self.at_least, self.at_most)


class _Comparison(BaseModel):
    """Mixin: a reference — another case (`compare_to`) or another stage (`against_stage`)."""

    compare_to: str | None = Field(None, description="case id whose values are the reference (paired by seed)")
    against_stage: Stage | None = Field(None, description="stage of this case whose values are the reference")
    paired: bool = Field(True, description="pair seeds by label (true) or compare with the reference's mean (false)")
    required_reference: ClassVar[bool] = True

    @model_validator(mode="after")
    def _one_reference(self):
        given = (self.compare_to is not None) + (self.against_stage is not None)
        if given > 1 or (self.required_reference and given == 0):
            raise ValueError(
                f"test {self.kind!r} needs exactly one of `compare_to` (a case id) or `against_stage` "
                f"(init | trained){'' if self.required_reference else ', or neither'}"
            )
        return self

    def reference(self) -> tuple[str | None, str | None]:
        return self.compare_to, self.against_stage

    def _against(self) -> str:
        if self.compare_to is not None:
            return f"vs case {self.compare_to}"
        if self.against_stage is not None:
            return f"vs {self.against_stage}"
        return ""

    def _compare(self, x: xr.DataArray, ref: xr.DataArray | None, op: str, reduce: str) -> SeedStatistics:
        """Per-seed a ∘ b (∘ = − or ÷), each side reduced per seed by `reduce`; paired by seed label, or
        against the reference mean."""
        a = scalar_per_seed(x, reduce)
        if ref is None:
            if self.required_reference:
                raise ObservableUnavailable(f"test {self.kind!r} has no reference values")
            v = a.values.astype(float)
            return self._finish(v, a["seed"].values, (v,), seed_mean, True, {})
        b = scalar_per_seed(ref, reduce)
        fn = np.subtract if op == "-" else np.divide
        if self.paired:
            common = np.intersect1d(a["seed"].values, b["seed"].values)
            if len(common) == 0:
                raise ObservableUnavailable(
                    "a paired comparison needs seeds present on both sides; none are shared — set `paired: false`"
                )
            av, bv = a.sel(seed=common).values.astype(float), b.sel(seed=common).values.astype(float)
            if op == "/" and np.any(bv == 0):
                raise ObservableUnavailable("ratio: the reference is 0 for some seed; use a `difference` test")
            v = fn(av, bv)
            detail = {"reference_mean": float(bv.mean())}
            if len(common) < max(a.sizes["seed"], b.sizes["seed"]):
                detail["unpaired_seeds_dropped"] = int(max(a.sizes["seed"], b.sizes["seed"]) - len(common))
            if op == "/" and np.all(v > 0):  # a ratio on the log scale: its geometric mean, interval of the logs
                return self._finish(v, common, (v,), geometric_mean, True, detail, interval="ratio")
            return self._finish(v, common, (v,), seed_mean, True, detail)
        av, bv = a.values.astype(float), b.values.astype(float)
        if op == "/" and bv.mean() == 0:
            raise ObservableUnavailable("ratio: the reference mean is 0; use a `difference` test")
        v = fn(av, bv.mean())

        def stat(sa, sb, axis=-1):
            return fn(np.mean(sa, axis=axis), np.mean(sb, axis=axis))

        kind = "welch" if op == "-" else "bootstrap"
        return self._finish(v, a["seed"].values, (av, bv), stat, False, {"reference_mean": float(bv.mean())}, interval=kind)

    def _finish(self, v, seeds, samples, stat, paired, detail, *, interval=None) -> SeedStatistics:
        region = self.region
        return SeedStatistics(
            values=v,
            passed=in_region(v, region),
            region=region,
            seeds=np.asarray(seeds),
            samples=samples,
            statistic=stat,
            paired=paired,
            detail=detail,
            interval=interval,
        )


def geometric_mean(*samples: np.ndarray, axis: int = -1) -> np.ndarray | np.floating:
    """The across-seed statistic of a paired ratio test: exp of the mean log ratio."""
    return np.exp(np.mean(np.log(samples[0]), axis=axis))


@TESTS.register
class Monotone(AbstractVectorTest):
    """Per seed, the Spearman correlation of the observable with its coordinate along `along` is strong enough.

    Statistic per seed: ρ = Spearman(coordinate, value) along `along` (scipy.stats.spearmanr; a
    constant profile has no trend and counts as ρ = 0). A seed passes if ρ ≤ `spearman_at_most`
    (direction decreasing, default −0.9) or ρ ≥ `spearman_at_least` (increasing, default 0.9).
    The interval rule applies to the mean ρ over seeds, bounds included (ρ over a few layers is
    discrete: with 5 layers ρ = −0.9 exactly is a possible value). Default ``seeds_at_least``: 0.8.
    """

    kind: Literal["monotone"] = "monotone"
    strict_interval: ClassVar[bool] = False
    along: str = Field("layer", description="dimension the trend runs along")
    direction: Literal["increasing", "decreasing"] = Field("decreasing", description="sign of the trend")
    spearman_at_most: float | None = Field(None, ge=-1, le=1, description="decreasing: pass if ρ ≤ this (default −0.9)")
    spearman_at_least: float | None = Field(None, ge=-1, le=1, description="increasing: pass if ρ ≥ this (default 0.9)")
    seeds_at_least: float = seeds_at_least_field(0.8)

    @model_validator(mode="after")
    def _direction_bound(self):
        wrong = self.spearman_at_least if self.direction == "decreasing" else self.spearman_at_most
        if wrong is not None:
            right = "spearman_at_most" if self.direction == "decreasing" else "spearman_at_least"
            raise ValueError(f"direction {self.direction!r} is judged by `{right}`; remove the other bound")
        return self

    @property
    def region(self) -> tuple[float | None, float | None]:
        if self.direction == "decreasing":
            return (None, -0.9 if self.spearman_at_most is None else self.spearman_at_most)
        return (0.9 if self.spearman_at_least is None else self.spearman_at_least, None)

    def seed_statistics(self, x: xr.DataArray, ref: xr.DataArray | None = None) -> SeedStatistics:
        x = self._vector(x)
        coord = np.asarray(x[self.along].values, dtype=float)
        if len(coord) < 3:
            raise ObservableUnavailable(f"monotone needs at least 3 points along {self.along!r}; the selection has {len(coord)}")
        rho = np.empty(x.sizes["seed"])
        for i, row in enumerate(x.values):
            if np.ptp(row) == 0:
                rho[i] = 0.0
            else:
                from scipy import stats

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", stats.ConstantInputWarning)
                    rho[i] = stats.spearmanr(coord, row).statistic
        return SeedStatistics(values=rho, passed=in_region(rho, self.region), region=self.region, seeds=x["seed"].values)

    def label(self) -> str:
        return f"monotone {self.direction} along {self.along}: ρ {format_region(self.region)}"


class _BoundedComparison(_Bounds, _Comparison, AbstractTest):
    """Base of `Ratio` and `Difference`: this observable ∘ a reference, per seed, within bounds (∘ = `op`)."""

    reduce: Reduce = _REDUCE_FIELD
    op: ClassVar[Literal["/", "-"]]

    def seed_statistics(self, x: xr.DataArray, ref: xr.DataArray | None = None) -> SeedStatistics:
        return self._compare(x, ref, self.op, self.reduce)

    def label(self) -> str:
        return f"{self.kind} {self._against()} {format_region(self.region)}"


@TESTS.register
class Ratio(_BoundedComparison):
    """This observable divided by a reference (another case or another stage), per seed, within bounds.

    Statistic per seed: a_i / b_i (paired by seed label) or a_i / mean(b) (unpaired); a seed passes
    inside [at_least, at_most]. Paired, the interval rule applies to the geometric mean of the ratios
    (a ratio on the log scale: the t interval of the mean log ratio, exponentiated) when every ratio
    is positive, else to their mean; unpaired, to mean(a)/mean(b) (a bootstrap interval, both sides
    resampled independently). A zero reference is an ERROR. Default ``seeds_at_least``: 0.7.
    """

    kind: Literal["ratio"] = "ratio"
    op: ClassVar[Literal["/", "-"]] = "/"


@TESTS.register
class Difference(_BoundedComparison):
    """This observable minus a reference (another case or another stage), per seed, within bounds.

    Statistic per seed: a_i − b_i (paired by seed label) or a_i − mean(b) (unpaired); a seed passes
    inside [at_least, at_most]. The interval rule applies to the mean difference; e.g.
    ``at_least: 0`` passes only if the interval of the mean difference excludes 0 and negative values.
    Default ``seeds_at_least``: 0.7.
    """

    kind: Literal["difference"] = "difference"
    op: ClassVar[Literal["/", "-"]] = "-"


@TESTS.register
class Concentration(AbstractVectorTest):
    """The `top` largest entries along `along` carry at least `share_at_least` of the total, per seed.

    Statistic per seed: share = Σ top-k / Σ all (negatives clipped to 0; an all-zero profile is an
    ERROR). A seed passes if share ≥ `share_at_least`, and — when `same_top_at_least` is set — its
    top-k set is the most common one across seeds. The detail reports the chance share k/n, the
    modal top-k set and the fraction of seeds having it. Default ``seeds_at_least``: 0.8.
    """

    kind: Literal["concentration"] = "concentration"
    along: str = Field("transition", description="dimension the share is taken along")
    top: int = Field(2, ge=1, description="number of largest entries k")
    share_at_least: float = Field(0.6, gt=0, le=1, description="pass if the top-k share is ≥ this")
    same_top_at_least: float | None = Field(
        None, gt=0, le=1, description="also require the modal top-k set in this fraction of seeds (e.g. 0.7)"
    )
    seeds_at_least: float = seeds_at_least_field(0.8)

    @property
    def region(self) -> tuple[float | None, float | None]:
        return (self.share_at_least, None)

    def seed_statistics(self, x: xr.DataArray, ref: xr.DataArray | None = None) -> SeedStatistics:
        x = self._vector(x)
        v = x.values.astype(float)
        share = top_share(v, self.top)
        if np.isnan(share).any():
            raise ObservableUnavailable(f"concentration: the total along {self.along!r} is zero for some seed")
        k = min(self.top, v.shape[1])
        coord = x[self.along].values
        sets = [tuple(sorted(int(c) for c in coord[np.argsort(-row, kind="stable")[:k]])) for row in v]
        modal, count = Counter(sets).most_common(1)[0]
        same = np.array([s == modal for s in sets])
        passed = share >= self.share_at_least
        detail = {"chance_share": k / v.shape[1], "modal_top": list(modal), "same_top_fraction": count / len(sets)}
        if self.same_top_at_least is not None:
            passed = passed & same
            if count / len(sets) < self.same_top_at_least:
                detail["note"] = f"the modal top-{k} set appears in only {count}/{len(sets)} seeds"
        return SeedStatistics(values=share, passed=passed, region=self.region, seeds=x["seed"].values, detail=detail)

    def label(self) -> str:
        return f"top-{self.top} share along {self.along} ≥ {self.share_at_least:.4g}"


@TESTS.register
class Plateau(AbstractVectorTest):
    """Most entries along `along` sit below a fraction of the seed's maximum (a fixed-point plateau).

    Statistic per seed: the fraction of entries v_j < `below` · max_j v_j (the maximum itself never
    counts, so the largest attainable value is (n−1)/n). A seed passes if that fraction is ≥
    `fraction_at_least`; the interval rule applies to its mean, bounds included (the fraction is
    discrete). Default ``seeds_at_least``: 0.8.
    """

    kind: Literal["plateau"] = "plateau"
    strict_interval: ClassVar[bool] = False
    along: str = Field("transition", description="dimension of the profile")
    below: float = Field(0.25, gt=0, lt=1, description="an entry is on the plateau if below this fraction of the maximum")
    fraction_at_least: float = Field(0.5, gt=0, le=1, description="pass if at least this fraction of entries is on the plateau")
    seeds_at_least: float = seeds_at_least_field(0.8)

    @property
    def region(self) -> tuple[float | None, float | None]:
        return (self.fraction_at_least, None)

    def seed_statistics(self, x: xr.DataArray, ref: xr.DataArray | None = None) -> SeedStatistics:
        v = self._vector(x).values.astype(float)
        mx = v.max(axis=1, keepdims=True)
        frac = (v < self.below * mx).mean(axis=1)
        return SeedStatistics(values=frac, passed=frac >= self.fraction_at_least, region=self.region, seeds=x["seed"].values)

    def label(self) -> str:
        return f"plateau along {self.along}: share < {self.below:.3g}·max ≥ {self.fraction_at_least:.4g}"


@TESTS.register
class Equivalence(_Comparison, AbstractTest):
    """|statistic| < δ, shown by a two one-sided t-test (TOST) at α = 0.05 — not by a non-significant difference.

    Statistic per seed: the observable (reduced to a scalar), or its difference from a reference when
    `compare_to` / `against_stage` is given. A seed passes if |s_i| < δ. Interval rule (replacing the
    bootstrap one): PASS if both one-sided t-tests reject |mean| ≥ δ (p_TOST < 0.05, i.e. the 90 %
    t-interval lies inside (−δ, δ)); FAIL if the 90 % t-interval lies wholly outside [−δ, δ] (the
    mean is beyond δ at one-sided α = 0.05); else INCONCLUSIVE. Default ``seeds_at_least``: 0.7.
    """

    kind: Literal["equivalence"] = "equivalence"
    delta: float = Field(gt=0, le=MARGIN, allow_inf_nan=False, description="equivalence margin δ: the claim is |statistic| < δ")
    reduce: Reduce = _REDUCE_FIELD
    required_reference: ClassVar[bool] = False
    alpha: ClassVar[float] = 0.05

    @property
    def region(self) -> tuple[float | None, float | None]:
        return (-self.delta, self.delta)

    def seed_statistics(self, x: xr.DataArray, ref: xr.DataArray | None = None) -> SeedStatistics:
        s = self._compare(x, ref, "-", self.reduce)
        return dataclasses.replace(s, passed=np.abs(s.values) < self.delta)

    def _t(self, s: SeedStatistics) -> tuple[float, float, float]:
        """(mean, its standard error, degrees of freedom): paired, or Welch for two unpaired groups."""
        v = np.asarray(s.values, dtype=float)
        n, m = len(v), float(s.mean)
        if s.paired:
            return m, (float(np.std(v, ddof=1) / math.sqrt(n)) if n > 1 else math.nan), n - 1
        a, b = s.samples
        va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
        se = float(math.sqrt(va + vb))
        return m, se, (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else n - 1

    def _tost(self, s: SeedStatistics) -> tuple[float, float, tuple[float, float]] | None:
        """(p_TOST, p of |mean| > δ, the (1 − 2α) t-interval), or None without a spread estimate."""
        m, se, df = self._t(s)
        d = self.delta
        if not np.isfinite(se):
            return None
        if se == 0:
            return (0.0 if abs(m) < d else 1.0), (0.0 if abs(m) > d else 1.0), (m, m)
        from scipy import stats

        t = stats.t(df)
        p_tost = float(max(t.sf((m + d) / se), t.cdf((m - d) / se)))
        p_beyond = float(t.sf((m - d) / se)) if m > d else float(t.cdf((m + d) / se)) if m < -d else 1.0
        q = t.ppf(1 - self.alpha)
        return p_tost, p_beyond, (m - q * se, m + q * se)

    def interval_verdict(self, s: SeedStatistics, ci: tuple[float, float]) -> tuple[str, dict[str, Any]]:
        tost = self._tost(s)
        if tost is None:
            return "inconclusive", {}
        p, _, (lo90, hi90) = tost
        d = self.delta
        detail = {"p_tost": p, "ci90_t": [lo90, hi90]}
        if p <= self.alpha:
            return "pass", detail
        if lo90 > d or hi90 < -d:
            return "fail", detail
        return "inconclusive", detail

    def own_pvalues(self, s: SeedStatistics) -> tuple[float, float] | None:
        """(p_TOST, p of |mean| > δ): the two one-sided t-tests' larger p, and the one-sided t-test of the
        mean beyond the nearer margin (1 when the mean lies inside); each compared with α itself."""
        tost = self._tost(s)
        return None if tost is None else tost[:2]

    def label(self) -> str:
        return f"equivalence {self._against()} |·| < {self.delta:.4g} (TOST)".replace("  ", " ")


@TESTS.register
class Threshold(_Bounds, AbstractTest):
    """The observable (reduced to one value per seed) lies within [at_least, at_most].

    A seed passes inside the bounds; the interval rule applies to the mean over seeds.
    Default ``seeds_at_least``: 0.7.
    """

    kind: Literal["threshold"] = "threshold"
    reduce: Reduce = _REDUCE_FIELD

    def seed_statistics(self, x: xr.DataArray, ref: xr.DataArray | None = None) -> SeedStatistics:
        a = scalar_per_seed(x, self.reduce)
        v = a.values.astype(float)
        return SeedStatistics(values=v, passed=in_region(v, self.region), region=self.region, seeds=a["seed"].values)

    def label(self) -> str:
        return f"threshold {format_region(self.region)}"
