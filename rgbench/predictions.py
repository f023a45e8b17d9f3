"""What a suite predicts: an observable selected from a case dataset, and the test it must pass.

A prediction in a suite file reads::

    - claim: effective rank falls monotonically with depth after training
      observable: effective_rank          # shorthand for {kind: effective_rank}
      stage: trained                      # parameter snapshot (null: the observable's default)
      layers: "1:"                        # python slice over layers (null: the observable's default)
      role: all                           # all | masked | visible positions
      test: {kind: monotone, along: layer, direction: decreasing, spearman_at_most: -0.9}

`rgbench.spec` builds the full ``Prediction`` model from `PredictionBase` plus an ``observable`` field
(one of the classes registered in ``OBSERVABLES``) and a ``test`` field (one of ``TESTS``).

Observables
    Each observable reads stored variables of one case (see DESIGN.md, "The stored dataset") and
    returns a per-seed `xarray.DataArray`: dims ``(seed,)`` for a scalar per seed, or
    ``(seed, layer)`` / ``(seed, transition)`` for a vector per seed. Anything it needs but cannot
    find (variable, stage, role, NaN values) raises `ObservableUnavailable`, which the scorer turns
    into an ERROR verdict — nothing passes on missing data.

Tests
    Each test turns the per-seed values (and, for comparisons, the per-seed values of a reference:
    another case by ``compare_to``, or another stage of the same case by ``against_stage``) into
    `SeedStatistics`: one statistic per seed, whether each seed passes, and the *pass region*
    ``[lo, hi]`` of the statistic. The across-seed verdict (in `rgbench.score`) combines two rules:

    * seed rule: with f the fraction of seeds passing and q = ``seeds_at_least`` (> ½), PASS if
      f ≥ q, FAIL if 1 − f ≥ q (the negation holds to the same standard), else INCONCLUSIVE;
    * interval rule: the 95 % bootstrap interval (BCa, over seeds, paired by seed for paired
      comparisons, fixed RNG) of the statistic's across-seed mean; PASS if it lies inside the pass
      region and excludes its bounds (``at_least: 0`` means "the interval excludes 0"; `Monotone`
      and `Plateau`, whose statistics are discrete, include the bounds), FAIL if it lies wholly
      outside, else INCONCLUSIVE (it straddles or touches a bound).
      `Equivalence` replaces it by a two one-sided t-test (TOST) at α = 0.05.

    The verdict is PASS when both rules say PASS, FAIL when both say FAIL, INCONCLUSIVE otherwise.
    Fewer than two seeds give no interval and are INCONCLUSIVE.

Comparisons (``ratio``, ``difference``, optionally ``equivalence``) with ``paired: true`` pair seeds
by their ``seed`` label (the seeds both sides have); ``paired: false`` compares each seed with the
reference's mean and resamples the two sides independently.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from scipy import stats

from .registry import OBSERVABLES, TESTS, Component
from .theory import TheoryContext, check_theory
from .theory import predict as theory_predict

__all__ = [
    "PredictionBase",
    "AbstractObservable",
    "AbstractTest",
    "ObservableUnavailable",
    "SeedStatistics",
    "parse_layers",
    "resolved_selection",
    "EffectiveRank",
    "EffectiveRankPooled",
    "ParticipationRatio",
    "ParticipationRatioPooled",
    "StableRank",
    "StableRankPooled",
    "RankCollapse",
    "KernelDrift",
    "UpdateRatio",
    "DriftConcentration",
    "FinalLoss",
    "LossGapBayes",
    "LossGapTokenwise",
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
    "FourthMomentRatio",
    "NormGrowth",
    "SymbolCorrelation",
    "DataEffectiveRankPooled",
    "CONTEXT_ATTR",
]

Stage = Literal["init", "trained"]
Role = Literal["all", "masked", "visible"]

CONTEXT_ATTR = "rgbench_context"
"""Attribute under which `AbstractObservable.values` hands tests the case its values came from (in memory only)."""


class ObservableUnavailable(Exception):
    """The data a prediction needs is not in the case dataset (or is NaN); its verdict is ERROR."""


# --------------------------------------------------------------------------------------------
# The prediction


class PredictionBase(BaseModel):
    """Fields of a prediction other than the registry-dispatched `observable` and `test`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str = Field(min_length=1, description="the claim in words, printed next to its verdict")
    stage: Stage | None = Field(None, description="parameter snapshot; null = observable's default")
    layers: str | None = Field(
        None, pattern=r"^-?\d*:?-?\d*$", description="python-style slice of layers, e.g. '1:' (layer 0 is the embedding)"
    )
    role: Role = Field("all", description="which positions the observable is taken on")

    @model_validator(mode="after")
    def _compatible(self) -> PredictionBase:
        # `observable` and `test` are added by rgbench.spec; check here that they fit together, so a
        # mismatch is reported when the suite loads rather than as an ERROR after training.
        obs, test = getattr(self, "observable", None), getattr(self, "test", None)
        if isinstance(obs, AbstractObservable):
            obs.check_selection(self.stage, self.layers, self.role)
            if isinstance(test, AbstractTest):
                test.check_observable(obs, self.stage)
        return self


def parse_layers(text: str | None) -> slice:
    """'1:' → slice(1, None); '3' → slice(3, 4); '-1' → the last layer; None or '' → everything."""
    if text is None or text.strip() in ("", ":"):
        return slice(None)
    if ":" not in text:
        i = int(text)
        return slice(i, i + 1 if i != -1 else None)
    lo, hi = text.split(":")
    return slice(int(lo) if lo else None, int(hi) if hi else None)


def resolved_selection(observable: AbstractObservable, stage: str | None, layers: str | None) -> tuple[str | None, str | None]:
    """The (stage, layers) an observable actually reads: the prediction's, else the observable's defaults."""
    return (stage if stage is not None else observable.default_stage, layers if layers is not None else observable.default_layers)


# --------------------------------------------------------------------------------------------
# Observables


class AbstractObservable(Component):
    """An observable read from a stored case dataset, one value (or one vector) per seed."""

    dim: ClassVar[str | None] = None  # the vector dim of the result; None for a scalar per seed
    default_stage: ClassVar[str | None] = "trained"
    default_layers: ClassVar[str | None] = None
    staged: ClassVar[bool] = True  # has a `stage` dimension
    layered: ClassVar[bool] = True  # `layers` means something
    roles: ClassVar[tuple[str, ...]] = ("all",)

    def values(self, ds: xr.Dataset, *, stage: str | None = None, layers: str | None = None, role: str = "all") -> xr.DataArray:
        """Per-seed values: dims ``("seed",)`` or ``("seed", self.dim)``. Raises ObservableUnavailable."""
        stage, layers = resolved_selection(self, stage, layers)
        self.check_selection(stage, layers, role, resolved=True)
        out = self._values(ds, stage=stage, sel=parse_layers(layers), role=role)
        expected = {"seed", *([self.dim] if self.dim else [])}
        if set(out.dims) != expected:
            raise ObservableUnavailable(f"{self.kind} of case {_case(ds)} has dims {out.dims}, expected {sorted(expected)}; "
                                        "the store does not follow the data format this rgbench reads")
        out = out.transpose("seed", *([self.dim] if self.dim else []))
        if out.sizes["seed"] == 0 or (self.dim and out.sizes[self.dim] == 0):
            raise ObservableUnavailable(f"{self.kind}: the selection (layers {layers!r}) is empty in case {_case(ds)}")
        bad = np.isnan(out.values).reshape(out.sizes["seed"], -1).any(axis=1)
        if bad.any():
            seeds = [int(s) for s in out["seed"].values[bad]]
            raise ObservableUnavailable(f"{self.kind} is NaN for seeds {seeds} of case {_case(ds)}; nothing is scored on missing data")
        # Tests that compare with a theory value (rgbench.theory) compute it from the case these
        # values came from; scoring hands tests only the values, so the case travels with them.
        out.attrs[CONTEXT_ATTR] = TheoryContext(self.kind, ds, stage, role)
        return out

    def _values(self, ds: xr.Dataset, *, stage: str | None, sel: slice, role: str) -> xr.DataArray:
        raise NotImplementedError

    def check_selection(self, stage: str | None, layers: str | None, role: str, *, resolved: bool = False) -> None:
        """Raise ValueError when the selection does not apply to this observable."""
        if not self.staged and stage not in (None, "trained"):
            raise ValueError(f"observable {self.kind!r} exists only after training; leave `stage` unset (got {stage!r})")
        if not self.layered and layers is not None:
            raise ValueError(f"observable {self.kind!r} has no layers; leave `layers` unset (got {layers!r})")
        if role not in self.roles:
            raise ValueError(f"observable {self.kind!r} supports role {' | '.join(self.roles)} (got {role!r})")

    def label(self, stage: str | None = None, layers: str | None = None, role: str = "all") -> str:
        """Short human description of the observable and its selection."""
        stage, layers = resolved_selection(self, stage, layers)
        parts = [stage if self.staged and stage else None, f"layers {layers}" if self.layered and layers else None,
                 f"{role} positions" if role != "all" else None]
        extra = self._label_extra(stage)
        inside = ", ".join(p for p in [extra, *parts] if p)
        return f"{self.kind}[{inside}]" if inside else self.kind

    def _label_extra(self, stage: str | None) -> str:
        return ""


def _case(ds: xr.Dataset) -> str:
    return repr(ds.attrs.get("case_id", "?"))


def _variable(ds: xr.Dataset, name: str) -> xr.DataArray:
    if name not in ds.data_vars:
        raise ObservableUnavailable(f"variable {name!r} is not stored for case {_case(ds)}; it was not measured or the "
                                    "store predates it — rerun the case")
    return ds[name]


def _at_stage(da: xr.DataArray, stage: str | None, ds: xr.Dataset) -> xr.DataArray:
    if "stage" not in da.dims:
        return da
    stages = [str(s) for s in da["stage"].values]
    if stage not in stages:
        raise ObservableUnavailable(f"stage {stage!r} of {da.name!r} was not measured for case {_case(ds)} (stages: "
                                    f"{', '.join(stages)}); add it to `measure.stages`")
    return da.sel(stage=stage, drop=True)


def _layer_values(ds: xr.Dataset) -> np.ndarray:
    if "layer" in ds.coords:
        return np.asarray(ds["layer"].values)
    if "transition" in ds.coords:
        t = np.asarray(ds["transition"].values)
        return np.arange(len(t) + 1)
    raise ObservableUnavailable(f"case {_case(ds)} has neither a `layer` nor a `transition` coordinate")


class _LayerVariable(AbstractObservable):
    """Base: a stored (seed, stage, layer[, position]) variable, averaged over positions."""

    dim: ClassVar[str | None] = "layer"
    default_layers: ClassVar[str | None] = "1:"  # layer 0 is the embedding: erank ≤ V + 1 by construction
    variable: ClassVar[str]
    role_variable: ClassVar[str | None] = None

    def _values(self, ds, *, stage, sel, role):
        if role != "all":
            da = _variable(ds, self.role_variable)
            if "role" not in da.dims or role not in [str(r) for r in da["role"].values]:
                raise ObservableUnavailable(f"{self.role_variable!r} of case {_case(ds)} has no role {role!r}")
            da = da.sel(role=role, drop=True)
        else:
            da = _variable(ds, self.variable)
        da = _at_stage(da, stage, ds)
        if "position" in da.dims:
            da = da.mean("position", skipna=False)  # a NaN position must surface, not be averaged away
        return da.isel(layer=sel)


@OBSERVABLES.register
class EffectiveRank(_LayerVariable):
    """Position-averaged effective rank of the residual stream, a vector along layer (default: trained, layers '1:').

    erank = exp(−Σ p_k ln p_k), p_k = σ_k / Σσ_j over the singular values σ of the centred N×d
    residual stream at one position (Roy & Vetterli 2007), stored per position as `effective_rank`
    and averaged over positions here. With role masked/visible it reads `effective_rank_role`.
    """

    kind: Literal["effective_rank"] = "effective_rank"
    variable: ClassVar[str] = "effective_rank"
    role_variable: ClassVar[str | None] = "effective_rank_role"
    roles: ClassVar[tuple[str, ...]] = ("all", "masked", "visible")


@OBSERVABLES.register
class EffectiveRankPooled(_LayerVariable):
    """Effective rank after mean-pooling over positions (`effective_rank_pooled`), a vector along layer.

    The mean-pooling artifact the paper controls for: pooled "collapse" can come from the data alone.
    """

    kind: Literal["effective_rank_pooled"] = "effective_rank_pooled"
    variable: ClassVar[str] = "effective_rank_pooled"


@OBSERVABLES.register
class ParticipationRatio(_LayerVariable):
    """Position-averaged participation ratio PR = (Σλ)² / Σλ², λ = σ² (Gao et al. 2017), a vector along layer."""

    kind: Literal["participation_ratio"] = "participation_ratio"
    variable: ClassVar[str] = "participation_ratio"


@OBSERVABLES.register
class ParticipationRatioPooled(_LayerVariable):
    """Participation ratio after mean-pooling over positions (`participation_ratio_pooled`), along layer."""

    kind: Literal["participation_ratio_pooled"] = "participation_ratio_pooled"
    variable: ClassVar[str] = "participation_ratio_pooled"


@OBSERVABLES.register
class StableRank(_LayerVariable):
    """Position-averaged stable rank Σσ² / σ_max² (Rudelson & Vershynin 2007), a vector along layer."""

    kind: Literal["stable_rank"] = "stable_rank"
    variable: ClassVar[str] = "stable_rank"


@OBSERVABLES.register
class StableRankPooled(_LayerVariable):
    """Stable rank after mean-pooling over positions (`stable_rank_pooled`), a vector along layer."""

    kind: Literal["stable_rank_pooled"] = "stable_rank_pooled"
    variable: ClassVar[str] = "stable_rank_pooled"


_RANKS: dict[str, type[_LayerVariable]] = {
    "effective_rank": EffectiveRank,
    "effective_rank_pooled": EffectiveRankPooled,
    "participation_ratio": ParticipationRatio,
    "stable_rank": StableRank,
}


@OBSERVABLES.register
class RankCollapse(AbstractObservable):
    """Rank collapse per seed: drop over the selected layers after training minus the drop at init.

    drop(stage) = r(first selected layer) − r(last selected layer), r the rank measure `of`
    (default: position-averaged effective rank, layers '1:'). With ``stage`` unset the value is
    C = drop(trained) − drop(init), the paper's collapse C(ξ); with ``stage`` set it is drop(stage) alone.
    """

    kind: Literal["rank_collapse"] = "rank_collapse"
    of: Literal["effective_rank", "effective_rank_pooled", "participation_ratio", "stable_rank"] = Field(
        "effective_rank", description="rank measure whose drop is taken"
    )
    dim: ClassVar[str | None] = None
    default_stage: ClassVar[str | None] = None
    default_layers: ClassVar[str | None] = "1:"

    def check_selection(self, stage, layers, role, *, resolved=False):
        if role != "all" and self.of != "effective_rank":
            raise ValueError(f"rank_collapse of {self.of!r} supports only role 'all' (got {role!r})")

    def _values(self, ds, *, stage, sel, role):
        rank = _RANKS[self.of]()

        def drop(s):
            r = rank._values(ds, stage=s, sel=sel, role=role)
            if r.sizes["layer"] == 0:
                raise ObservableUnavailable(f"rank_collapse: the layer selection is empty in case {_case(ds)}")
            return r.isel(layer=0, drop=True) - r.isel(layer=-1, drop=True)

        return drop(stage) if stage is not None else drop("trained") - drop("init")

    def _label_extra(self, stage):
        of = "" if self.of == "effective_rank" else f"of {self.of}"
        return ", ".join(p for p in (of, "trained − init" if stage is None else "") if p)


class _TransitionVariable(AbstractObservable):
    """Base: a stored (seed, stage, transition) variable; `layers` keeps transitions within the selected layers."""

    dim: ClassVar[str | None] = "transition"
    variable: ClassVar[str]

    def _values(self, ds, *, stage, sel, role):
        da = _at_stage(_variable(ds, self.variable), stage, ds)
        return _select_transitions(da, ds, sel)


def _select_transitions(da: xr.DataArray, ds: xr.Dataset, sel: slice) -> xr.DataArray:
    if sel == slice(None):
        return da
    kept = set(int(x) for x in _layer_values(ds)[sel])
    t = np.asarray(da["transition"].values)
    return da.isel(transition=[i for i, ell in enumerate(t) if int(ell) in kept and int(ell) + 1 in kept])


@OBSERVABLES.register
class KernelDrift(_TransitionVariable):
    """Inter-layer kernel drift 1 − CKA(H_ℓ, H_ℓ₊₁) (linear CKA, Kornblith et al. 2019), a vector along transition.

    ``layers`` keeps the transitions ℓ→ℓ+1 with both ℓ and ℓ+1 selected (default: all transitions).
    """

    kind: Literal["kernel_drift"] = "kernel_drift"
    variable: ClassVar[str] = "kernel_drift"


@OBSERVABLES.register
class UpdateRatio(_TransitionVariable):
    """Relative block update ‖h_{ℓ+1} − h_ℓ‖ / ‖h_ℓ‖, a vector along transition (default: all transitions)."""

    kind: Literal["update_ratio"] = "update_ratio"
    variable: ClassVar[str] = "update_ratio"


def top_share(v: np.ndarray, top: int) -> np.ndarray:
    """Share of the `top` largest entries in the total along the last axis (negatives clipped to 0)."""
    v = np.clip(np.asarray(v, dtype=float), 0.0, None)
    total = v.sum(axis=-1)
    k = min(top, v.shape[-1])
    top_sum = -np.sort(-v, axis=-1)[..., :k].sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, top_sum / total, np.nan)


@OBSERVABLES.register
class DriftConcentration(AbstractObservable):
    """Share of the total drift carried by the `top` largest transitions, one value per seed.

    share = Σ_{top k} v_ℓ / Σ_ℓ v_ℓ over the selected transitions of `of` (negative values, numerical
    noise of 1 − CKA, are clipped to 0). Chance level for a flat profile is k / #transitions.
    """

    kind: Literal["drift_concentration"] = "drift_concentration"
    of: Literal["kernel_drift", "update_ratio"] = Field("kernel_drift", description="per-transition measure")
    top: int = Field(2, ge=1, description="number of largest transitions whose share is taken")
    dim: ClassVar[str | None] = None

    def _values(self, ds, *, stage, sel, role):
        da = _select_transitions(_at_stage(_variable(ds, self.of), stage, ds), ds, sel)
        if da.sizes["transition"] == 0:
            raise ObservableUnavailable(f"drift_concentration: no transition selected in case {_case(ds)}")
        share = top_share(da.transpose("seed", "transition").values, self.top)
        if np.isnan(share).any() and not np.isnan(da.values).any():
            raise ObservableUnavailable(f"drift_concentration: total {self.of} is zero for some seed of case {_case(ds)}")
        return xr.DataArray(share, dims=("seed",), coords={"seed": da["seed"].values})

    def _label_extra(self, stage):
        return f"top {self.top} of {self.of}"


class _SeedScalar(AbstractObservable):
    """Base: a per-seed scalar measured after training (no stage, no layers)."""

    staged: ClassVar[bool] = False
    layered: ClassVar[bool] = False
    default_stage: ClassVar[str | None] = None
    floor: ClassVar[str | None] = None

    def _values(self, ds, *, stage, sel, role):
        loss = _variable(ds, "final_loss")
        if self.floor is None:
            return loss
        floor = float(_variable(ds, self.floor).values)
        if not np.isfinite(floor):
            raise ObservableUnavailable(f"{self.floor!r} is not available for case {_case(ds)} (no exact floor for its input)")
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


class _InitVariable(AbstractObservable):
    """Base: a per-seed quantity of the networks at init, stored by ``rgbench.theory.theory_variables``.

    These exist at initialisation only: ``stage`` may be left unset or set to ``init``.
    """

    staged: ClassVar[bool] = False
    default_stage: ClassVar[str | None] = "init"

    def check_selection(self, stage, layers, role, *, resolved=False):
        if stage not in (None, "init"):
            raise ValueError(f"observable {self.kind!r} is measured at initialisation only; leave `stage` unset or "
                             f"set it to init (got {stage!r})")
        if not self.layered and layers is not None:
            raise ValueError(f"observable {self.kind!r} has no layers; leave `layers` unset (got {layers!r})")
        if role != "all":
            raise ValueError(f"observable {self.kind!r} supports role all (got {role!r})")

    def _label_extra(self, stage):
        return "init"


def _symbol_moments(ds: xr.Dataset, sel: slice) -> tuple[xr.DataArray, xr.DataArray]:
    """(mean over symbols of q², mean over symbols of q), per seed and selected layer."""
    a = _variable(ds, "init_sq_norm_sq").astype(np.float64)  # (seed, layer)
    b = _variable(ds, "init_sq_norm").astype(np.float64)
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

    def _values(self, ds, *, stage, sel, role):
        a, b = _symbol_moments(ds, sel)
        s = a.sizes["seed"]
        if s < 2:
            raise ObservableUnavailable(f"fourth_moment_ratio is a moment across seeds; case {_case(ds)} has {s} seed")
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

    def _values(self, ds, *, stage, sel, role):
        q = _variable(ds, "init_sq_norm").astype(np.float64)
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

    def _values(self, ds, *, stage, sel, role):
        return _variable(ds, "init_correlation").astype(np.float64).isel(layer=sel)


@OBSERVABLES.register
class DataEffectiveRankPooled(_InitVariable):
    """Effective rank of the position-mean one-hot histograms of the input, one independent data draw per seed.

    Seed s draws ``measure.samples`` fresh sequences (``data_effective_rank_pooled``): the data-side
    pooling artifact with a sampling error, to compare with the exact population value. No layers.
    """

    kind: Literal["data_effective_rank_pooled"] = "data_effective_rank_pooled"
    layered: ClassVar[bool] = False

    def _values(self, ds, *, stage, sel, role):
        return _variable(ds, "data_effective_rank_pooled").astype(np.float64)

    def _label_extra(self, stage):
        return "data"


# --------------------------------------------------------------------------------------------
# Tests


@dataclass(frozen=True)
class SeedStatistics:
    """A test's per-seed outcome, before the across-seed verdict.

    `values` holds one statistic per seed and `passed` whether that seed passes; `region` is the
    pass region [lo, hi] (None = unbounded) of the statistic's across-seed mean. The bootstrap
    resamples `samples` (paired along axis 0 when `paired`) and recomputes `statistic` on them.
    """

    values: np.ndarray
    passed: np.ndarray
    region: tuple[float | None, float | None]
    seeds: np.ndarray
    samples: tuple[np.ndarray, ...] = ()
    statistic: Callable[..., Any] | None = None
    paired: bool = True
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if not self.samples:
            object.__setattr__(self, "samples", (np.asarray(self.values, dtype=float),))
        if self.statistic is None:
            object.__setattr__(self, "statistic", _mean)

    @property
    def mean(self) -> float:
        return float(self.statistic(*self.samples, axis=-1))


def _mean(*samples, axis=-1):
    return np.mean(samples[0], axis=axis)


def in_region(x: np.ndarray | float, region: tuple[float | None, float | None]) -> np.ndarray:
    lo, hi = region
    x = np.asarray(x, dtype=float)
    ok = np.ones(x.shape, dtype=bool)
    if lo is not None:
        ok &= x >= lo
    if hi is not None:
        ok &= x <= hi
    return ok


def interval_rule(ci: tuple[float, float], region: tuple[float | None, float | None], strict: bool = True) -> str:
    """'pass' if the interval lies inside the region, 'fail' if wholly outside, else 'inconclusive'.

    Strict (the default): the interval must also exclude the bounds, so ``at_least: 0`` means "the
    interval excludes 0" and data sitting exactly on a bound (e.g. two identical cases) never pass.
    """
    lo, hi = region
    a, b = ci
    if strict:
        inside = (lo is None or a > lo) and (hi is None or b < hi)
    else:
        inside = (lo is None or a >= lo) and (hi is None or b <= hi)
    if inside:
        return "pass"
    if (lo is not None and b < lo) or (hi is not None and a > hi):
        return "fail"
    return "inconclusive"


def format_region(region: tuple[float | None, float | None]) -> str:
    lo, hi = region
    if lo is not None and hi is not None:
        return f"[{lo:.4g}, {hi:.4g}]"
    if lo is not None:
        return f"≥ {lo:.4g}"
    if hi is not None:
        return f"≤ {hi:.4g}"
    return "any"


class AbstractTest(Component):
    """A test of per-seed values; see the module docstring for the across-seed verdict rules."""

    needs: ClassVar[Literal["scalar", "vector"]] = "scalar"
    seeds_at_least: float = Field(
        0.7, gt=0.5, le=1, description="PASS needs at least this fraction of seeds passing; FAIL needs at least this fraction failing"
    )

    # -- hooks
    def reference(self) -> tuple[str | None, str | None]:
        """(compare_to case id, against_stage) of a comparison; (None, None) for a one-sample test."""
        return None, None

    def seed_statistics(self, x: xr.DataArray, ref: xr.DataArray | None = None) -> SeedStatistics:
        raise NotImplementedError

    # Whether the interval must exclude the bounds of the pass region. Tests of discrete statistics
    # (Spearman ρ over a few layers, fractions of transitions) set False: hitting a bound exactly is
    # a legitimate value there, not a tie.
    strict_interval: ClassVar[bool] = True

    def interval_verdict(self, stats_: SeedStatistics, ci: tuple[float, float]) -> tuple[str, dict[str, Any]]:
        """Interval rule: 'pass' | 'fail' | 'inconclusive' and any numbers worth reporting."""
        return interval_rule(ci, stats_.region, self.strict_interval), {}

    def label(self) -> str:
        return self.kind

    # -- checks shared by the suite validator and the scorer
    def check_observable(self, obs: AbstractObservable, stage: str | None) -> None:
        if self.needs == "vector":
            along = getattr(self, "along")
            if obs.dim is None:
                raise ValueError(f"test {self.kind!r} needs a vector observable along {along!r}; {obs.kind!r} is one "
                                 "value per seed")
            if obs.dim != along:
                raise ValueError(f"test {self.kind!r} runs along {along!r} but observable {obs.kind!r} is a vector "
                                 f"along {obs.dim!r}; set `along: {obs.dim}`")
        _, against = self.reference()
        if against is not None:
            if not obs.staged:
                raise ValueError(f"observable {obs.kind!r} has no stages; `against_stage` does not apply")
            own = stage if stage is not None else obs.default_stage
            if own == against:
                raise ValueError(f"`against_stage: {against}` compares stage {own!r} with itself; set the prediction's "
                                 "`stage` to the other one")

    def _scalar(self, x: xr.DataArray) -> xr.DataArray:
        extra = [d for d in x.dims if d != "seed"]
        if not extra:
            return x
        (dim,) = extra
        how = getattr(self, "reduce", "mean")
        if how == "first":
            return x.isel({dim: 0}, drop=True)
        if how == "last":
            return x.isel({dim: -1}, drop=True)
        return getattr(x, how)(dim, skipna=False)

    def _vector(self, x: xr.DataArray) -> xr.DataArray:
        along = getattr(self, "along")
        if along not in x.dims:
            raise ObservableUnavailable(f"test {self.kind!r} runs along {along!r} but the observable has dims {x.dims}")
        return x.transpose("seed", along)


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
            raise ValueError(f"test {self.kind!r} needs exactly one of `compare_to` (a case id) or `against_stage` "
                             f"(init | trained){'' if self.required_reference else ', or neither'}")
        return self

    def reference(self):
        return self.compare_to, self.against_stage

    def _against(self) -> str:
        if self.compare_to is not None:
            return f"vs case {self.compare_to}"
        if self.against_stage is not None:
            return f"vs {self.against_stage}"
        return ""

    def _compare(self, x: xr.DataArray, ref: xr.DataArray | None, op: str) -> SeedStatistics:
        """Per-seed a ∘ b (∘ = − or ÷); paired by seed label, or against the reference mean."""
        a = self._scalar(x)
        if ref is None:
            if self.required_reference:
                raise ObservableUnavailable(f"test {self.kind!r} has no reference values")
            v = a.values.astype(float)
            return self._finish(v, a["seed"].values, (v,), _mean, True, {})
        b = self._scalar(ref)
        fn = np.subtract if op == "-" else np.divide
        if self.paired:
            common = np.intersect1d(a["seed"].values, b["seed"].values)
            if len(common) == 0:
                raise ObservableUnavailable("a paired comparison needs seeds present on both sides; none are shared "
                                            "— set `paired: false`")
            av, bv = a.sel(seed=common).values.astype(float), b.sel(seed=common).values.astype(float)
            if op == "/" and np.any(bv == 0):
                raise ObservableUnavailable("ratio: the reference is 0 for some seed; use a `difference` test")
            v = fn(av, bv)
            detail = {"reference_mean": float(bv.mean())}
            if len(common) < max(a.sizes["seed"], b.sizes["seed"]):
                detail["unpaired_seeds_dropped"] = int(max(a.sizes["seed"], b.sizes["seed"]) - len(common))
            return self._finish(v, common, (v,), _mean, True, detail)
        av, bv = a.values.astype(float), b.values.astype(float)
        if op == "/" and bv.mean() == 0:
            raise ObservableUnavailable("ratio: the reference mean is 0; use a `difference` test")
        v = fn(av, bv.mean())

        def stat(sa, sb, axis=-1):
            return fn(np.mean(sa, axis=axis), np.mean(sb, axis=axis))

        return self._finish(v, a["seed"].values, (av, bv), stat, False, {"reference_mean": float(bv.mean())})

    def _finish(self, v, seeds, samples, stat, paired, detail) -> SeedStatistics:
        region = self.region
        return SeedStatistics(values=v, passed=in_region(v, region), region=region, seeds=np.asarray(seeds),
                              samples=samples, statistic=stat, paired=paired, detail=detail)


@TESTS.register
class Monotone(AbstractTest):
    """Per seed, the Spearman correlation of the observable with its coordinate along `along` is strong enough.

    Statistic per seed: ρ = Spearman(coordinate, value) along `along` (scipy.stats.spearmanr; a
    constant profile has no trend and counts as ρ = 0). A seed passes if ρ ≤ `spearman_at_most`
    (direction decreasing, default −0.9) or ρ ≥ `spearman_at_least` (increasing, default 0.9).
    The interval rule applies to the mean ρ over seeds, bounds included (ρ over a few layers is
    discrete: with 5 layers ρ = −0.9 exactly is a possible value). Default ``seeds_at_least``: 0.8.
    """

    kind: Literal["monotone"] = "monotone"
    needs: ClassVar[Literal["scalar", "vector"]] = "vector"
    strict_interval: ClassVar[bool] = False
    along: str = Field("layer", description="dimension the trend runs along")
    direction: Literal["increasing", "decreasing"] = Field("decreasing", description="sign of the trend")
    spearman_at_most: float | None = Field(None, ge=-1, le=1, description="decreasing: pass if ρ ≤ this (default −0.9)")
    spearman_at_least: float | None = Field(None, ge=-1, le=1, description="increasing: pass if ρ ≥ this (default 0.9)")
    seeds_at_least: float = Field(0.8, gt=0.5, le=1, description="PASS needs this fraction of seeds passing; FAIL this fraction failing")

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

    def seed_statistics(self, x, ref=None):
        x = self._vector(x)
        coord = np.asarray(x[self.along].values, dtype=float)
        if len(coord) < 3:
            raise ObservableUnavailable(f"monotone needs at least 3 points along {self.along!r}; the selection has {len(coord)}")
        rho = np.empty(x.sizes["seed"])
        for i, row in enumerate(x.values):
            if np.ptp(row) == 0:
                rho[i] = 0.0
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", stats.ConstantInputWarning)
                    rho[i] = stats.spearmanr(coord, row).statistic
        return SeedStatistics(values=rho, passed=in_region(rho, self.region), region=self.region, seeds=x["seed"].values)

    def label(self):
        return f"monotone {self.direction} along {self.along}: ρ {format_region(self.region)}"


@TESTS.register
class Ratio(_Bounds, _Comparison, AbstractTest):
    """This observable divided by a reference (another case or another stage), per seed, within bounds.

    Statistic per seed: a_i / b_i (paired by seed label) or a_i / mean(b) (unpaired); a seed passes
    inside [at_least, at_most]. The interval rule applies to the mean ratio (unpaired: mean(a)/mean(b),
    both sides resampled independently). A zero reference is an ERROR. Default ``seeds_at_least``: 0.7.
    """

    kind: Literal["ratio"] = "ratio"
    reduce: Reduce = _REDUCE_FIELD

    def seed_statistics(self, x, ref=None):
        return self._compare(x, ref, "/")

    def label(self):
        return f"ratio {self._against()} {format_region(self.region)}"


@TESTS.register
class Difference(_Bounds, _Comparison, AbstractTest):
    """This observable minus a reference (another case or another stage), per seed, within bounds.

    Statistic per seed: a_i − b_i (paired by seed label) or a_i − mean(b) (unpaired); a seed passes
    inside [at_least, at_most]. The interval rule applies to the mean difference; e.g.
    ``at_least: 0`` passes only if the 95 % paired bootstrap interval excludes negative values.
    Default ``seeds_at_least``: 0.7.
    """

    kind: Literal["difference"] = "difference"
    reduce: Reduce = _REDUCE_FIELD

    def seed_statistics(self, x, ref=None):
        return self._compare(x, ref, "-")

    def label(self):
        return f"difference {self._against()} {format_region(self.region)}"


@TESTS.register
class Concentration(AbstractTest):
    """The `top` largest entries along `along` carry at least `share_at_least` of the total, per seed.

    Statistic per seed: share = Σ top-k / Σ all (negatives clipped to 0; an all-zero profile is an
    ERROR). A seed passes if share ≥ `share_at_least`, and — when `same_top_at_least` is set — its
    top-k set is the most common one across seeds. The detail reports the chance share k/n, the
    modal top-k set and the fraction of seeds having it. Default ``seeds_at_least``: 0.8.
    """

    kind: Literal["concentration"] = "concentration"
    needs: ClassVar[Literal["scalar", "vector"]] = "vector"
    along: str = Field("transition", description="dimension the share is taken along")
    top: int = Field(2, ge=1, description="number of largest entries k")
    share_at_least: float = Field(0.6, gt=0, le=1, description="pass if the top-k share is ≥ this")
    same_top_at_least: float | None = Field(
        None, gt=0, le=1, description="also require the modal top-k set in this fraction of seeds (e.g. 0.7)"
    )
    seeds_at_least: float = Field(0.8, gt=0.5, le=1, description="PASS needs this fraction of seeds passing; FAIL this fraction failing")

    @property
    def region(self):
        return (self.share_at_least, None)

    def seed_statistics(self, x, ref=None):
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

    def label(self):
        return f"top-{self.top} share along {self.along} ≥ {self.share_at_least:.4g}"


@TESTS.register
class Plateau(AbstractTest):
    """Most entries along `along` sit below a fraction of the seed's maximum (a fixed-point plateau).

    Statistic per seed: the fraction of entries v_j < `below` · max_j v_j (the maximum itself never
    counts, so the largest attainable value is (n−1)/n). A seed passes if that fraction is ≥
    `fraction_at_least`; the interval rule applies to its mean, bounds included (the fraction is
    discrete). Default ``seeds_at_least``: 0.8.
    """

    kind: Literal["plateau"] = "plateau"
    needs: ClassVar[Literal["scalar", "vector"]] = "vector"
    strict_interval: ClassVar[bool] = False
    along: str = Field("transition", description="dimension of the profile")
    below: float = Field(0.25, gt=0, lt=1, description="an entry is on the plateau if below this fraction of the maximum")
    fraction_at_least: float = Field(0.5, gt=0, le=1, description="pass if at least this fraction of entries is on the plateau")
    seeds_at_least: float = Field(0.8, gt=0.5, le=1, description="PASS needs this fraction of seeds passing; FAIL this fraction failing")

    @property
    def region(self):
        return (self.fraction_at_least, None)

    def seed_statistics(self, x, ref=None):
        v = self._vector(x).values.astype(float)
        mx = v.max(axis=1, keepdims=True)
        frac = (v < self.below * mx).mean(axis=1)
        return SeedStatistics(values=frac, passed=frac >= self.fraction_at_least, region=self.region, seeds=x["seed"].values)

    def label(self):
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
    def region(self):
        return (-self.delta, self.delta)

    def seed_statistics(self, x, ref=None):
        s = self._compare(x, ref, "-")
        passed = np.abs(s.values) < self.delta
        return SeedStatistics(values=s.values, passed=passed, region=s.region, seeds=s.seeds, samples=s.samples,
                              statistic=s.statistic, paired=s.paired, detail=s.detail)

    def interval_verdict(self, s, ci):
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

    def label(self):
        return f"equivalence {self._against()} |·| < {self.delta:.4g} (TOST)".replace("  ", " ")


@TESTS.register
class Threshold(_Bounds, AbstractTest):
    """The observable (reduced to one value per seed) lies within [at_least, at_most].

    A seed passes inside the bounds; the interval rule applies to the mean over seeds.
    Default ``seeds_at_least``: 0.7.
    """

    kind: Literal["threshold"] = "threshold"
    reduce: Reduce = _REDUCE_FIELD

    def seed_statistics(self, x, ref=None):
        a = self._scalar(x)
        v = a.values.astype(float)
        return SeedStatistics(values=v, passed=in_region(v, self.region), region=self.region, seeds=a["seed"].values)

    def label(self):
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
        raise ObservableUnavailable(f"{what} needs the case the values came from; these values carry none "
                                    "(pass values obtained from AbstractObservable.values)")
    return ctx


def _predicted(value: float | TheoryValue, x: xr.DataArray) -> xr.DataArray:
    """`value` as an array aligned with the observable values `x` (same dims and coordinates)."""
    if not isinstance(value, TheoryValue):
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
        raise ObservableUnavailable(f"theory {value.theory!r} is not finite for case {_case(_context(x, 'theory').dataset)}")
    return theta


def _blocks(n: int, replicates: int) -> list[np.ndarray]:
    """Consecutive blocks of seeds (indices), as equal as possible, each of ≥ 2 seeds when n ≥ 4."""
    return np.array_split(np.arange(n), max(1, min(replicates, n // 2)))


def _se(d: np.ndarray) -> float:
    return float(np.std(d, ddof=1) / math.sqrt(len(d))) if len(d) > 1 else math.inf


def _block_labels(seeds: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    return np.array([f"{seeds[b[0]]}-{seeds[b[-1]]}" for b in blocks], dtype=object)


_TOLERANCE_SE = Field(0.0, ge=0, description="add this many standard errors of the across-seed mean (needs `replicates`)")
_REPLICATES = Field(
    None, ge=2, description="the claim is about the mean over seeds (initialisations): the seed rule judges this many blocks "
    "of consecutive seeds, each block's mean with its own standard error"
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
    tolerance_width: float = Field(0.0, ge=0, description="add this divided by the case's width n (2 for the 2/n of a finite-width bias)")
    replicates: int | None = _REPLICATES
    reduce: Reduce = _REDUCE_FIELD

    @model_validator(mode="after")
    def _some_tolerance(self):
        if self.tolerance == 0 and self.tolerance_se == 0 and self.tolerance_width == 0:
            raise ValueError("close_to needs a positive `tolerance`, `tolerance_se` or `tolerance_width`")
        if self.tolerance_se > 0 and self.replicates is None:
            raise ValueError("`tolerance_se` is a standard error of the mean over seeds: set `replicates` (e.g. 10) to "
                             "make the claim about the mean")
        return self

    @property
    def region(self):
        if isinstance(self.value, TheoryValue) or self.tolerance_se or self.tolerance_width:
            return (None, None)  # known only with the data
        tol = self.tolerance * abs(self.value) if self.relative else self.tolerance
        return (self.value - tol, self.value + tol)

    def check_observable(self, obs, stage):
        super().check_observable(obs, stage)
        if isinstance(self.value, TheoryValue):
            check_theory(self.value.theory, obs.kind, resolved_selection(obs, stage, None)[0])

    def _band(self, scale: float, width: float | None, se: float) -> float:
        base = self.tolerance + (self.tolerance_width / width if self.tolerance_width else 0.0)
        return base * (scale if self.relative else 1.0) + self.tolerance_se * se

    def seed_statistics(self, x, ref=None):
        theta = self._scalar(_predicted(self.value, x))
        a = self._scalar(x)
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
            return SeedStatistics(values=v, passed=passed, region=region, seeds=seeds, samples=(d,), statistic=stat,
                                  detail=detail)
        blocks = _blocks(len(d), self.replicates)
        means = np.array([d[b].mean() for b in blocks])
        passed = np.array([abs(m) <= self._band(scale, width, _se(d[b])) for m, b in zip(means, blocks)])
        detail.update(standard_error=_se(d), replicates=f"{len(blocks)} blocks of about {len(d) // len(blocks)} seeds")
        return SeedStatistics(values=center + means, passed=passed, region=region, seeds=_block_labels(seeds, blocks),
                              samples=(d,), statistic=stat, detail=detail)

    def label(self):
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
    def region(self):
        return (None, None) if self.tolerance_se else (self.exponent - self.tolerance, self.exponent + self.tolerance)

    def reference(self):
        return self.compare_to, None

    def check_observable(self, obs, stage):
        super().check_observable(obs, stage)
        if isinstance(self.value, TheoryValue):
            check_theory(self.value.theory, obs.kind, resolved_selection(obs, stage, None)[0])

    def _deviation(self, x: xr.DataArray) -> tuple[np.ndarray, float]:
        d = (self._scalar(x) - self._scalar(_predicted(self.value, x))).values.astype(float)
        n = float(_context(x, "scaling").architecture[self.along])
        return d, n

    def seed_statistics(self, x, ref=None):
        if ref is None:
            raise ObservableUnavailable("scaling has no reference values (compare_to)")
        dx, nx = self._deviation(x)
        dr, nr = self._deviation(ref)
        if nx == nr:
            raise ObservableUnavailable(f"scaling along {self.along} needs cases of different {self.along}; both have {nx:g}")
        log_ratio = math.log(nx / nr)
        for d, name in ((dx, "this case"), (dr, f"case {self.compare_to!r}")):
            if abs(d.mean()) < 2 * _se(d):
                raise ObservableUnavailable(f"the deviation in {name} ({d.mean():.3g} ± {_se(d):.2g} SE) is not resolved from 0, "
                                            "so it has no exponent; run more seeds or compare wider-apart cases")

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
        detail = {"deviation": float(dx.mean()), "deviation_reference": float(dr.mean()), self.along: nx,
                  f"{self.along}_reference": nr, "standard_error": se_p(dx, dr), "tolerance": tol,
                  "replicates": f"{k} blocks per case"}
        seeds = np.array([f"block {i}" for i in range(k)], dtype=object)
        return SeedStatistics(values=p, passed=passed, region=region, seeds=seeds, samples=(dx, dr), statistic=stat,
                              paired=False, detail=detail)

    def label(self):
        of = f"theory {self.value.theory}" if isinstance(self.value, TheoryValue) else f"{self.value:.4g}"
        tol = " + ".join(p for p in (f"{self.tolerance:.3g}" if self.tolerance else "",
                                     f"{self.tolerance_se:.3g}·SE" if self.tolerance_se else "") if p)
        return f"deviation from {of} ∝ {self.along}^{self.exponent:g} ± {tol} (vs {self.compare_to})"
