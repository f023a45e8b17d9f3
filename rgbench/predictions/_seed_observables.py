"""Observables with one value per seed and no stage to choose: the trained network's losses and the
slope of its loss curve (after training), and the quantities of the networks at init the theories
predict (`rgbench._theory_measure` stores them). The layered and staged observables are in
`_observables`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
from pydantic import Field

from ..registry import OBSERVABLES
from ._base import AbstractObservable, ObservableUnavailable, case_name, variable

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "FinalLoss",
    "LossGapBayes",
    "LossGapTokenwise",
    "LossSlope",
    "FourthMomentRatio",
    "NormGrowth",
    "SymbolCorrelation",
    "DataEffectiveRankPooled",
]


class _SeedScalar(AbstractObservable):
    """Base: a per-seed scalar measured after training (no stage, no layers)."""

    staged: ClassVar[bool] = False
    layered: ClassVar[bool] = False
    default_stage: ClassVar[str | None] = None
    floor: ClassVar[str | None] = None

    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        loss = variable(ds, "final_loss")
        if self.floor is None:
            return loss
        floor = float(variable(ds, self.floor).values)
        if not np.isfinite(floor):
            raise ObservableUnavailable(
                f"{self.floor!r} is not available for case {case_name(ds)} (no exact floor for its input)"
            )
        return loss - floor


@OBSERVABLES.register
class FinalLoss(_SeedScalar):
    """Masked-token cross-entropy (nats) of the trained model on the fixed evaluation set, per seed."""

    kind: Literal["final_loss"] = "final_loss"


@OBSERVABLES.register
class LossGapBayes(_SeedScalar):
    """final_loss − bayes_loss: excess over the exact full-context floor on the same evaluation set (nats)."""

    kind: Literal["loss_gap_bayes"] = "loss_gap_bayes"
    floor: ClassVar[str | None] = "bayes_loss"


@OBSERVABLES.register
class LossGapTokenwise(_SeedScalar):
    """final_loss − tokenwise_loss: excess over the context-free floor (negative: the model uses context)."""

    kind: Literal["loss_gap_tokenwise"] = "loss_gap_tokenwise"
    floor: ClassVar[str | None] = "tokenwise_loss"


@OBSERVABLES.register
class LossSlope(AbstractObservable):
    """Slope of the training loss over the last `fraction` of training, in nats per `per` steps, per seed.

    The least-squares slope of the logged loss (each value the mean over its chunk of ``log_every``
    steps) against the step, over the chunks that end in the last `fraction` of the steps (at least
    two are needed: ``log_every`` at most `fraction` / 2 of the steps). Near 0: training has converged;
    negative: the loss still falls, and a verdict about the trained network may still move.
    """

    kind: Literal["loss_slope"] = "loss_slope"
    fraction: float = Field(0.1, gt=0.0, le=1.0, description="the last fraction of the training steps fitted")
    per: int = Field(1000, ge=1, description="the slope's unit: nats per this many steps")
    staged: ClassVar[bool] = False
    layered: ClassVar[bool] = False
    default_stage: ClassVar[str | None] = None
    dim: ClassVar[str | None] = None

    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        loss = variable(ds, "loss").transpose("seed", "step")
        steps = np.asarray(loss["step"].values, dtype=float)
        if steps.size == 0 or steps[-1] <= 0:
            raise ObservableUnavailable(f"loss_slope: case {case_name(ds)} was not trained (no loss curve)")
        late = steps > (1.0 - self.fraction) * steps[-1]
        if late.sum() < 2:
            raise ObservableUnavailable(
                f"loss_slope: only {int(late.sum())} logged loss value(s) in the last {self.fraction:g} of the "
                f"{int(steps[-1])} steps of case {case_name(ds)}; log more often (train.log_every)"
            )
        x = steps[late] - steps[late].mean()
        y = loss.values[:, late].astype(float)
        slope = (y - y.mean(axis=1, keepdims=True)) @ x / (x @ x) * self.per
        import xarray as xr

        return xr.DataArray(slope, dims=("seed",), coords={"seed": loss["seed"].values})

    def _label_extra(self, stage: str | int | None) -> str:
        return f"nats per {self.per} steps over the last {self.fraction:g} of training"


class _InitVariable(AbstractObservable):
    """Base: a per-seed quantity of the networks at init, stored by ``rgbench._theory_measure.theory_variables``.

    These exist at initialisation only: ``stage`` may be left unset or set to ``init``.
    """

    staged: ClassVar[bool] = False
    default_stage: ClassVar[str | None] = "init"

    def check_selection(self, stage: str | int | None, layers: str | None, role: str, *, resolved: bool = False) -> None:
        if stage not in (None, "init"):
            raise ValueError(
                f"observable {self.kind!r} is measured at initialisation only; leave `stage` unset or "
                f"set it to init (got {stage!r})"
            )
        if not self.layered and layers is not None:
            raise ValueError(f"observable {self.kind!r} has no layers; leave `layers` unset (got {layers!r})")
        if role != "all":
            raise ValueError(f"observable {self.kind!r} supports role all (got {role!r})")

    def _label_extra(self, stage: str | int | None) -> str:
        return "init"


def _symbol_moments(ds: xr.Dataset, sel: slice) -> tuple[xr.DataArray, xr.DataArray]:
    """(mean over symbols of q², mean over symbols of q), per seed and selected layer."""
    a = variable(ds, "init_sq_norm_sq").astype(np.float64)  # (seed, layer)
    b = variable(ds, "init_sq_norm").astype(np.float64)
    return a.isel(layer=sel), b.isel(layer=sel)


@OBSERVABLES.register
class FourthMomentRatio(_InitVariable):
    """E q_ℓ² / (E q_ℓ)² over initialisations, q_ℓ = ‖h_ℓ‖²/n of one symbol's stream, a vector along layer.

    The ratio of moments across seeds; per seed the value is the jackknife pseudo-value
    S·R̂ − (S−1)·R̂₋ᵢ of R̂ = mean(a)/mean(b)², with a_i, b_i seed i's mean over symbols of q² and q.
    The pseudo-values average to the (bias-corrected) estimate and their spread gives its jackknife
    standard error, so the across-seed tests apply as to any mean. 1 at infinite width; 1 + 2/n for a
    Gaussian layer (layer 0, the embedding). Default layers: all (0 … L). At init only.
    """

    kind: Literal["fourth_moment_ratio"] = "fourth_moment_ratio"
    dim: ClassVar[str | None] = "layer"

    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        a, b = _symbol_moments(ds, sel)
        s = a.sizes["seed"]
        if s < 2:
            raise ObservableUnavailable(f"fourth_moment_ratio is a moment across seeds; case {case_name(ds)} has {s} seed")
        sa, sb = a.sum("seed"), b.sum("seed")
        full = (sa / s) / (sb / s) ** 2
        loo = ((sa - a) / (s - 1)) / ((sb - b) / (s - 1)) ** 2
        return s * full - (s - 1) * loo


@OBSERVABLES.register
class NormGrowth(_InitVariable):
    """q_ℓ / q₀ per seed, q_ℓ = mean over symbols of ‖h_ℓ‖²/n: the growth of the stream's squared norm, along layer.

    The NNGP variance recursion predicts it (e.g. (1+r)^ℓ for a residual ReLU stack). At init only.
    """

    kind: Literal["norm_growth"] = "norm_growth"
    dim: ClassVar[str | None] = "layer"

    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        q = variable(ds, "init_sq_norm").astype(np.float64)
        return (q / q.isel(layer=0, drop=True)).isel(layer=sel)


@OBSERVABLES.register
class SymbolCorrelation(_InitVariable):
    """Mean over pairs of distinct symbols of the cosine between their streams at layer ℓ, per seed, along layer.

    ρ_ℓ = mean_{a<b} ⟨h_ℓ(a), h_ℓ(b)⟩ / (‖h_ℓ(a)‖‖h_ℓ(b)‖) over the V + 1 symbols ([MASK] included);
    the NNGP correlation map predicts it from the embeddings' ρ₀. A stream that is exactly zero (a
    ReLU layer entirely off, probability 2^−n) has no cosine: its pairs are left out. At init only.
    """

    kind: Literal["symbol_correlation"] = "symbol_correlation"
    dim: ClassVar[str | None] = "layer"

    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        return variable(ds, "init_correlation").astype(np.float64).isel(layer=sel)


@OBSERVABLES.register
class DataEffectiveRankPooled(_InitVariable):
    """Effective rank of the position-mean one-hot histograms of the input, one independent data draw per seed.

    Seed s draws ``measure.samples`` fresh sequences (``data_effective_rank_pooled``): the data-side
    pooling artifact with a sampling error, to compare with the exact population value. No layers.
    """

    kind: Literal["data_effective_rank_pooled"] = "data_effective_rank_pooled"
    layered: ClassVar[bool] = False

    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        return variable(ds, "data_effective_rank_pooled").astype(np.float64)

    def _label_extra(self, stage: str | int | None) -> str:
        return "data"
