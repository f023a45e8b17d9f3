"""The tests against a predicted value: `CloseTo` (a number or an exact theory's value, with
block-replicate standard errors) and `Scaling` (an exponent across two cases); `TheoryValue` names
the theory (``value: {theory: NAME}``, `rgbench list theory`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..registry import TESTS
from ..theory import check_theory
from ..theory import predict as theory_predict
from ._base import (
    CONTEXT_ATTR,
    AbstractObservable,
    AbstractTest,
    ObservableUnavailable,
    SeedStatistics,
    case_name,
    resolved_selection,
    scalar_per_seed,
)
from ._tests import _REDUCE_FIELD, MARGIN, Reduce

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["TheoryValue", "CloseTo", "Scaling"]


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


def _bounded(value: float | TheoryValue) -> float | TheoryValue:
    """A predicted number must be finite and within ±MARGIN (a theory's value is checked when scored)."""
    if isinstance(value, float) and not (math.isfinite(value) and abs(value) <= MARGIN):
        raise ValueError(f"a predicted value must be a finite number of magnitude at most {MARGIN:g}")
    return value


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


def _check_value(value: float | TheoryValue, obs: AbstractObservable, stage: str | int | None) -> None:
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


_TOLERANCE_SE = Field(
    0.0,
    ge=0,
    le=MARGIN,
    allow_inf_nan=False,
    description="add this many standard errors of the across-seed mean (needs `replicates`)",
)
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
    SE its own standard error; the interval rule takes the interval of the mean over all seeds,
    value + mean(d) (`rgbench.stats.mean_interval`), against the band with SE the all-seed standard error. Default
    ``seeds_at_least`` (of seeds or blocks): 0.7.
    """

    kind: Literal["close_to"] = "close_to"
    value: float | TheoryValue = Field(description="the predicted value: a number or {theory: NAME}")

    @field_validator("value")
    @classmethod
    def _bounded_value(cls, value: float | TheoryValue) -> float | TheoryValue:
        return _bounded(value)

    tolerance: float = Field(
        0.0, ge=0, le=MARGIN, allow_inf_nan=False, description="allowed deviation (absolute, or relative to |value|)"
    )
    relative: bool = Field(False, description="tolerance and tolerance_width are fractions of |value|")
    tolerance_se: float = _TOLERANCE_SE
    tolerance_width: float = Field(
        0.0,
        ge=0,
        le=MARGIN,
        allow_inf_nan=False,
        description="add this divided by the case's width n (2 for the 2/n of a finite-width bias)",
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

    def check_observable(self, obs: AbstractObservable, stage: str | int | None) -> None:
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
                values=v,
                passed=passed,
                region=region,
                seeds=seeds,
                samples=(d,),
                statistic=stat,
                detail=detail,
                interval="mean",
                offset=center,
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
            interval="mean",
            offset=center,
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
    block b of the reference; interval rule: BCa bootstrap interval of p (level 1 − α), both cases resampled
    independently. A deviation within 2 SE of zero cannot give an exponent: ERROR, run more seeds.
    Default ``seeds_at_least`` (of blocks): 0.7.
    """

    kind: Literal["scaling"] = "scaling"
    compare_to: str = Field(description="the other case of the sweep (paired by block, not by seed)")
    along: Literal["width", "depth"] = Field("width", description="architecture parameter the deviation scales with")
    exponent: float = Field(
        ge=-MARGIN, le=MARGIN, allow_inf_nan=False, description="predicted exponent, e.g. -1 for a 1/width deviation"
    )
    tolerance: float = Field(0.0, ge=0, le=MARGIN, allow_inf_nan=False, description="allowed |p − exponent|")
    tolerance_se: float = Field(0.0, ge=0, le=MARGIN, allow_inf_nan=False, description="add this many standard errors of p")
    value: float | TheoryValue = Field(0.0, description="the deviation is taken from this value (a number or {theory: NAME})")

    @field_validator("value")
    @classmethod
    def _bounded_value(cls, value: float | TheoryValue) -> float | TheoryValue:
        return _bounded(value)

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

    def check_observable(self, obs: AbstractObservable, stage: str | int | None) -> None:
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
