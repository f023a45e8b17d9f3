"""The tests a suite can name: per-seed statistics of an observable, and the pass region of their mean.

The across-seed verdict rules they feed are in the docstring of `rgbench.predictions._base` (and
README, "Verdicts"); each test's docstring gives its per-seed statistic and its default
``seeds_at_least``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..registry import TESTS
from ..theory import check_theory
from ..theory import predict as theory_predict
from ._base import (
    CONTEXT_ATTR,
    AbstractObservable,
    AbstractTest,
    AbstractVectorTest,
    ObservableUnavailable,
    SeedStatistics,
    Stage,
    case_name,
    format_region,
    in_region,
    resolved_selection,
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
    "CloseTo",
    "Scaling",
    "TheoryValue",
]


Reduce = Literal["mean", "min", "max", "first", "last", "sum"]
_REDUCE_FIELD = Field("mean", description="how a vector observable (e.g. along layer) becomes one value per seed")


class _Bounds(BaseModel):
    """Mixin: at_least / at_most bounds, at least one required."""

    at_least: float | None = Field(None, description="pass if the statistic is ≥ this")
    at_most: float | None = Field(None, description="pass if the statistic is ≤ this")

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
            return self._finish(v, common, (v,), seed_mean, True, detail)
        av, bv = a.values.astype(float), b.values.astype(float)
        if op == "/" and bv.mean() == 0:
            raise ObservableUnavailable("ratio: the reference mean is 0; use a `difference` test")
        v = fn(av, bv.mean())

        def stat(sa, sb, axis=-1):
            return fn(np.mean(sa, axis=axis), np.mean(sb, axis=axis))

        return self._finish(v, a["seed"].values, (av, bv), stat, False, {"reference_mean": float(bv.mean())})

    def _finish(self, v, seeds, samples, stat, paired, detail) -> SeedStatistics:
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
        )


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
    inside [at_least, at_most]. The interval rule applies to the mean ratio (unpaired: mean(a)/mean(b),
    both sides resampled independently). A zero reference is an ERROR. Default ``seeds_at_least``: 0.7.
    """

    kind: Literal["ratio"] = "ratio"
    op: ClassVar[Literal["/", "-"]] = "/"


@TESTS.register
class Difference(_BoundedComparison):
    """This observable minus a reference (another case or another stage), per seed, within bounds.

    Statistic per seed: a_i − b_i (paired by seed label) or a_i − mean(b) (unpaired); a seed passes
    inside [at_least, at_most]. The interval rule applies to the mean difference; e.g.
    ``at_least: 0`` passes only if the 95 % paired bootstrap interval excludes negative values.
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
    delta: float = Field(gt=0, description="equivalence margin δ: the claim is |statistic| < δ")
    reduce: Reduce = _REDUCE_FIELD
    required_reference: ClassVar[bool] = False
    alpha: ClassVar[float] = 0.05

    @property
    def region(self) -> tuple[float | None, float | None]:
        return (-self.delta, self.delta)

    def seed_statistics(self, x: xr.DataArray, ref: xr.DataArray | None = None) -> SeedStatistics:
        s = self._compare(x, ref, "-", self.reduce)
        return dataclasses.replace(s, passed=np.abs(s.values) < self.delta)

    def interval_verdict(self, s: SeedStatistics, ci: tuple[float, float]) -> tuple[str, dict[str, Any]]:
        v = np.asarray(s.values, dtype=float)
        n, m = len(v), float(s.mean)
        if s.paired:
            se = float(np.std(v, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
            df = n - 1
        else:  # Welch
            a, b = s.samples
            va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
            se = float(math.sqrt(va + vb))
            df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else n - 1
        d = self.delta
        if not np.isfinite(se):
            return "inconclusive", {}
        if se == 0:
            p = 0.0 if abs(m) < d else 1.0
            lo90 = hi90 = m
        else:
            from scipy import stats

            t = stats.t(df)
            p = float(max(t.sf((m + d) / se), t.cdf((m - d) / se)))
            q = t.ppf(1 - self.alpha)
            lo90, hi90 = m - q * se, m + q * se
        detail = {"p_tost": p, "ci90_t": [lo90, hi90]}
        if p < self.alpha:
            return "pass", detail
        if lo90 > d or hi90 < -d:
            return "fail", detail
        return "inconclusive", detail

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


class TheoryValue(BaseModel):
    """``{theory: NAME}``: a value that a theory of `rgbench.theory` computes for the case at scoring time.

    Exact for the case's architecture and input (closed form or recursion); per seed where the theory
    takes a measured input (e.g. the drawn embeddings' correlation), else one number or one per layer.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    theory: str = Field(description="a theory name of rgbench.theory.THEORY, e.g. nngp_residual_relu")

    @field_validator("theory")
    @classmethod
    def _known(cls, name: str) -> str:
        check_theory(name)
        return name


def _context(x: xr.DataArray, what: str):
    ctx = x.attrs.get(CONTEXT_ATTR)
    if ctx is None:
        raise ObservableUnavailable(
            f"{what} needs the case the values came from; these values carry none "
            "(pass values obtained from AbstractObservable.values)"
        )
    return ctx


def _predicted(value: float | TheoryValue, x: xr.DataArray) -> xr.DataArray:
    """`value` as an array aligned with the observable values `x` (same dims and coordinates)."""
    if not isinstance(value, TheoryValue):
        import xarray as xr

        return xr.full_like(x, float(value), dtype=float)
    theta = theory_predict(value.theory, _context(x, f"theory {value.theory!r}"))
    for dim in theta.dims:
        if dim not in x.dims:
            raise ObservableUnavailable(f"theory {value.theory!r} gives values along {dim!r}, the observable has dims {x.dims}")
        missing = np.setdiff1d(x[dim].values, theta[dim].values)
        if missing.size:
            raise ObservableUnavailable(f"theory {value.theory!r} has no value at {dim} {missing.tolist()}")
        theta = theta.sel({dim: x[dim].values})
    theta = theta.astype(float).broadcast_like(x).transpose(*x.dims)
    if not np.isfinite(theta.values).all():
        raise ObservableUnavailable(f"theory {value.theory!r} is not finite for case {case_name(_context(x, 'theory').dataset)}")
    return theta


def _check_value(value: float | TheoryValue, obs: AbstractObservable, stage: str | None) -> None:
    """A test's predicted ``value``, when it is a theory's, must be one the theory gives for `obs` at `stage`."""
    if isinstance(value, TheoryValue):
        check_theory(value.theory, obs.kind, resolved_selection(obs, stage, None)[0])


def _blocks(n: int, replicates: int) -> list[np.ndarray]:
    """Consecutive blocks of seeds (indices), as equal as possible, each of ≥ 2 seeds when n ≥ 4."""
    return np.array_split(np.arange(n), max(1, min(replicates, n // 2)))


def _se(d: np.ndarray) -> float:
    return float(np.std(d, ddof=1) / math.sqrt(len(d))) if len(d) > 1 else math.inf


def _block_labels(seeds: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    return np.array([f"{seeds[b[0]]}-{seeds[b[-1]]}" for b in blocks], dtype=object)


_TOLERANCE_SE = Field(0.0, ge=0, description="add this many standard errors of the across-seed mean (needs `replicates`)")
_REPLICATES = Field(
    None,
    ge=2,
    description="the claim is about the mean over seeds (initialisations): the seed rule judges this many blocks "
    "of consecutive seeds, each block's mean with its own standard error",
)


@TESTS.register
class CloseTo(AbstractTest):
    """The observable equals a predicted value — a number or a theory's — within a tolerance.

    ``value`` is a number or ``{theory: NAME}`` (`rgbench.theory`: computed for the case, exactly,
    at scoring time; per seed when the theory takes a measured input). With dᵢ = sᵢ − valueᵢ the
    band is |d| ≤ tol, tol = (tolerance + tolerance_width/n)·(|value| if relative else 1) +
    tolerance_se·SE, n the case's ``architecture.width``.

    Per-seed claim (``replicates`` unset): a seed passes inside the band, SE = 0. Claim about the
    expectation over initialisations (``replicates: B``; what theory at init predicts): the seeds are
    pooled into B consecutive blocks and a block passes if its mean deviation is inside the band with
    SE its own standard error; the interval rule takes the 95 % bootstrap interval of the mean over
    all seeds, value + mean(d), against the band with SE the all-seed standard error. Default
    ``seeds_at_least`` (of seeds or blocks): 0.7.
    """

    kind: Literal["close_to"] = "close_to"
    value: float | TheoryValue = Field(description="the predicted value: a number or {theory: NAME}")
    tolerance: float = Field(0.0, ge=0, description="allowed deviation (absolute, or relative to |value|)")
    relative: bool = Field(False, description="tolerance and tolerance_width are fractions of |value|")
    tolerance_se: float = _TOLERANCE_SE
    tolerance_width: float = Field(
        0.0, ge=0, description="add this divided by the case's width n (2 for the 2/n of a finite-width bias)"
    )
    replicates: int | None = _REPLICATES
    reduce: Reduce = _REDUCE_FIELD

    @model_validator(mode="after")
    def _some_tolerance(self):
        if self.tolerance == 0 and self.tolerance_se == 0 and self.tolerance_width == 0:
            raise ValueError("close_to needs a positive `tolerance`, `tolerance_se` or `tolerance_width`")
        if self.tolerance_se > 0 and self.replicates is None:
            raise ValueError(
                "`tolerance_se` is a standard error of the mean over seeds: set `replicates` (e.g. 10) to "
                "make the claim about the mean"
            )
        return self

    def check_observable(self, obs: AbstractObservable, stage: str | None) -> None:
        super().check_observable(obs, stage)
        _check_value(self.value, obs, stage)

    @property
    def region(self) -> tuple[float | None, float | None]:
        if isinstance(self.value, TheoryValue) or self.tolerance_se or self.tolerance_width:
            return (None, None)  # known only with the data
        tol = self.tolerance * abs(self.value) if self.relative else self.tolerance
        return (self.value - tol, self.value + tol)

    def _band(self, scale: float, width: float | None, se: float) -> float:
        base = self.tolerance + (self.tolerance_width / width if self.tolerance_width else 0.0)
        return base * (scale if self.relative else 1.0) + self.tolerance_se * se

    def seed_statistics(self, x: xr.DataArray, ref: xr.DataArray | None = None) -> SeedStatistics:
        theta = scalar_per_seed(_predicted(self.value, x), self.reduce)
        a = scalar_per_seed(x, self.reduce)
        v, th = a.values.astype(float), theta.values.astype(float)
        d, seeds, center = v - th, a["seed"].values, float(th.mean())
        width = None
        if self.tolerance_width:
            width = float(_context(x, "tolerance_width").architecture["width"])
        scale = abs(center)
        tol = self._band(scale, width, _se(d) if self.replicates else 0.0)
        region = (center - tol, center + tol)
        detail: dict[str, Any] = {"predicted": center, "tolerance": tol}
        if isinstance(self.value, TheoryValue):
            detail["theory"] = self.value.theory
        if width is not None:
            detail["width"] = width

        def stat(dd, axis=-1):
            return center + np.mean(dd, axis=axis)

        if self.replicates is None:
            passed = np.abs(d) <= tol
            return SeedStatistics(
                values=v, passed=passed, region=region, seeds=seeds, samples=(d,), statistic=stat, detail=detail
            )
        blocks = _blocks(len(d), self.replicates)
        means = np.array([d[b].mean() for b in blocks])
        passed = np.array([abs(m) <= self._band(scale, width, _se(d[b])) for m, b in zip(means, blocks)])
        detail.update(standard_error=_se(d), replicates=f"{len(blocks)} blocks of about {len(d) // len(blocks)} seeds")
        return SeedStatistics(
            values=center + means,
            passed=passed,
            region=region,
            seeds=_block_labels(seeds, blocks),
            samples=(d,),
            statistic=stat,
            detail=detail,
        )

    def label(self) -> str:
        value = f"theory {self.value.theory}" if isinstance(self.value, TheoryValue) else f"{self.value:.4g}"
        parts = []
        if self.tolerance:
            parts.append(f"{self.tolerance:.3g}" + ("·|value|" if self.relative else ""))
        if self.tolerance_width:
            parts.append(f"{self.tolerance_width:.3g}/n" + ("·|value|" if self.relative else ""))
        if self.tolerance_se:
            parts.append(f"{self.tolerance_se:.3g}·SE")
        mean = " (mean over seeds)" if self.replicates else ""
        return f"close to {value} ± {' + '.join(parts)}{mean}"


@TESTS.register
class Scaling(AbstractTest):
    """The deviation from a predicted value scales as a power of width (or depth) between two cases.

    With D = mean over seeds of (s − value) in this case and in ``compare_to`` (``value`` a number,
    default 0, or ``{theory: NAME}``), the measured exponent is p = ln(|D| / |D_ref|) / ln(n / n_ref),
    n = ``architecture.width`` (or ``depth``) of each case. It passes if |p − exponent| ≤ tolerance +
    tolerance_se·SE(p), SE by the delta method from each side's standard error. Seed rule: the seeds
    of each case are split into ``replicates`` consecutive blocks, block b of this case paired with
    block b of the reference; interval rule: 95 % bootstrap interval of p, both cases resampled
    independently. A deviation within 2 SE of zero cannot give an exponent: ERROR, run more seeds.
    Default ``seeds_at_least`` (of blocks): 0.7.
    """

    kind: Literal["scaling"] = "scaling"
    compare_to: str = Field(description="the other case of the sweep (paired by block, not by seed)")
    along: Literal["width", "depth"] = Field("width", description="architecture parameter the deviation scales with")
    exponent: float = Field(description="predicted exponent, e.g. -1 for a 1/width deviation")
    tolerance: float = Field(0.0, ge=0, description="allowed |p − exponent|")
    tolerance_se: float = Field(0.0, ge=0, description="add this many standard errors of p")
    value: float | TheoryValue = Field(0.0, description="the deviation is taken from this value (a number or {theory: NAME})")
    replicates: int = Field(10, ge=2, description="blocks of consecutive seeds per case for the seed rule")
    reduce: Reduce = _REDUCE_FIELD

    @model_validator(mode="after")
    def _some_tolerance(self):
        if self.tolerance == 0 and self.tolerance_se == 0:
            raise ValueError("scaling needs a positive `tolerance` or `tolerance_se`")
        return self

    @property
    def region(self) -> tuple[float | None, float | None]:
        return (None, None) if self.tolerance_se else (self.exponent - self.tolerance, self.exponent + self.tolerance)

    def reference(self) -> tuple[str | None, str | None]:
        return self.compare_to, None

    def check_observable(self, obs: AbstractObservable, stage: str | None) -> None:
        super().check_observable(obs, stage)
        _check_value(self.value, obs, stage)

    def _deviation(self, x: xr.DataArray) -> tuple[np.ndarray, float]:
        d = (scalar_per_seed(x, self.reduce) - scalar_per_seed(_predicted(self.value, x), self.reduce)).values.astype(float)
        n = float(_context(x, "scaling").architecture[self.along])
        return d, n

    def seed_statistics(self, x: xr.DataArray, ref: xr.DataArray | None = None) -> SeedStatistics:
        if ref is None:
            raise ObservableUnavailable("scaling has no reference values (compare_to)")
        dx, nx = self._deviation(x)
        dr, nr = self._deviation(ref)
        if nx == nr:
            raise ObservableUnavailable(f"scaling along {self.along} needs cases of different {self.along}; both have {nx:g}")
        log_ratio = math.log(nx / nr)
        for d, name in ((dx, "this case"), (dr, f"case {self.compare_to!r}")):
            if abs(d.mean()) < 2 * _se(d):
                raise ObservableUnavailable(
                    f"the deviation in {name} ({d.mean():.3g} ± {_se(d):.2g} SE) is not resolved from 0, "
                    "so it has no exponent; run more seeds or compare wider-apart cases"
                )

        def exponent(a, b):
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.log(np.abs(a) / np.abs(b)) / log_ratio

        def se_p(a, b):
            return math.hypot(_se(a) / abs(a.mean()), _se(b) / abs(b.mean())) / abs(log_ratio)

        def stat(a, b, axis=-1):
            return exponent(np.mean(a, axis=axis), np.mean(b, axis=axis))

        tol = self.tolerance + self.tolerance_se * se_p(dx, dr)
        region = (self.exponent - tol, self.exponent + tol)
        bx, br = _blocks(len(dx), self.replicates), _blocks(len(dr), self.replicates)
        k = min(len(bx), len(br))
        p = np.array([float(exponent(dx[bx[i]].mean(), dr[br[i]].mean())) for i in range(k)])
        with np.errstate(divide="ignore", invalid="ignore"):
            band = np.array([self.tolerance + self.tolerance_se * se_p(dx[bx[i]], dr[br[i]]) for i in range(k)])
        passed = np.isfinite(p) & (np.abs(p - self.exponent) <= band)
        detail = {
            "deviation": float(dx.mean()),
            "deviation_reference": float(dr.mean()),
            self.along: nx,
            f"{self.along}_reference": nr,
            "standard_error": se_p(dx, dr),
            "tolerance": tol,
            "replicates": f"{k} blocks per case",
        }
        seeds = np.array([f"block {i}" for i in range(k)], dtype=object)
        return SeedStatistics(
            values=p, passed=passed, region=region, seeds=seeds, samples=(dx, dr), statistic=stat, paired=False, detail=detail
        )

    def label(self) -> str:
        of = f"theory {self.value.theory}" if isinstance(self.value, TheoryValue) else f"{self.value:.4g}"
        tol = " + ".join(
            p
            for p in (
                f"{self.tolerance:.3g}" if self.tolerance else "",
                f"{self.tolerance_se:.3g}·SE" if self.tolerance_se else "",
            )
            if p
        )
        return f"deviation from {of} ∝ {self.along}^{self.exponent:g} ± {tol} (vs {self.compare_to})"
