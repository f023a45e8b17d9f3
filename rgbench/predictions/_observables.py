"""The observables a suite can name: what is read from a stored case, one value or one vector per seed.

Each reads the variables `rgbench.measure` stores (docs/guide.md "The stored data"); the docstring of each
gives its formula and source. The per-seed scalars read after training (the losses and their slope)
and the quantities measured at init only are in `_seed_observables`. Rank observables are per position and then averaged over positions;
``role`` selects the probe rows (`Role`: ``token`` rows leave out every [MASK] input, so a "collapse"
carried by the [MASK] symbol alone is told apart), and ``probe: half`` reads the same measure on the
first N/2 probe sequences (``full_minus_half``: the N-dependence, i.e. how far the measure is from
converged in the probe size).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from ..registry import OBSERVABLES
from ._base import (
    AbstractObservable,
    ObservableUnavailable,
    at_stage,
    case_name,
    variable,
)

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "EffectiveRank",
    "EffectiveRankPooled",
    "ParticipationRatio",
    "ParticipationRatioPooled",
    "StableRank",
    "StableRankPooled",
    "RankCollapse",
    "MaskDistance",
    "KernelDrift",
    "UpdateRatio",
    "DriftConcentration",
    "DominantTransition",
    "top_share",
]

Probe = Literal["full", "half", "full_minus_half"]
_PROBE_FIELD = Field(
    "full", description="probe sequences measured: full (N), half (the first N/2), full_minus_half (the N-dependence)"
)


def _layer_values(ds: xr.Dataset) -> np.ndarray:
    if "layer" in ds.coords:
        return np.asarray(ds["layer"].values)
    if "transition" in ds.coords:
        t = np.asarray(ds["transition"].values)
        return np.arange(len(t) + 1)
    raise ObservableUnavailable(f"case {case_name(ds)} has neither a `layer` nor a `transition` coordinate")


def _position_mean(da: xr.DataArray, *, skip_missing: bool) -> xr.DataArray:
    if "position" not in da.dims:
        return da
    # A NaN position must surface (a diverged seed, damaged data), not be averaged away — except
    # where a position may legitimately hold too few rows to measure ([MASK] rows of a small probe).
    return da.mean("position", skipna=skip_missing)


class _LayerVariable(AbstractObservable):
    """Base: a stored (seed, stage, layer[, position]) variable, averaged over positions."""

    dim: ClassVar[str | None] = "layer"
    default_layers: ClassVar[str | None] = "1:"  # layer 0 is the embedding: erank ≤ V + 1 by construction
    variable: ClassVar[str]

    def profile(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str, probe: str = "full") -> xr.DataArray:
        """(seed, layer) values of one probe size ('full' or 'half') on the selected layers."""
        da = at_stage(variable(ds, self.variable), stage, ds)
        return _position_mean(da, skip_missing=False).isel(layer=sel)

    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        return self.profile(ds, stage=stage, sel=sel, role=role)


class _PositionRank(_LayerVariable):
    """Base: a rank measure of the stream at each position, over the probe rows `role` selects."""

    roles: ClassVar[tuple[str, ...]] = ("all", "token", "mask")
    probe: Probe = _PROBE_FIELD

    def check_selection(self, stage: str | int | None, layers: str | None, role: str, *, resolved: bool = False) -> None:
        super().check_selection(stage, layers, role, resolved=resolved)
        if self.probe != "full" and role not in ("all", "token"):
            raise ValueError(f"`probe: {self.probe}` is stored for roles all and token only (got role {role!r})")

    def profile(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str, probe: str = "full") -> xr.DataArray:
        if role in ("masked", "visible"):
            da = variable(ds, "effective_rank_role")
            if "role" not in da.dims or role not in [str(r) for r in da["role"].values]:
                raise ObservableUnavailable(f"'effective_rank_role' of case {case_name(ds)} has no role {role!r}")
            return at_stage(da.sel(role=role, drop=True), stage, ds).isel(layer=sel)
        rows = {
            ("all", "half"): "half",
            ("token", "full"): "token",
            ("token", "half"): "token_half",
            ("mask", "full"): "mask",
        }.get((role, probe))
        if rows is None:
            return super().profile(ds, stage=stage, sel=sel, role=role)
        da = variable(ds, f"{self.variable}_rows")
        if "rows" not in da.dims or rows not in [str(r) for r in da["rows"].values]:
            raise ObservableUnavailable(f"'{self.variable}_rows' of case {case_name(ds)} has no rows {rows!r}")
        da = at_stage(da.sel(rows=rows, drop=True), stage, ds)
        return _position_mean(da, skip_missing=role == "mask").isel(layer=sel)

    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        if self.probe == "full_minus_half":
            return self.profile(ds, stage=stage, sel=sel, role=role, probe="full") - self.profile(
                ds, stage=stage, sel=sel, role=role, probe="half"
            )
        return self.profile(ds, stage=stage, sel=sel, role=role, probe=self.probe)

    def _label_extra(self, stage: str | int | None) -> str:
        return "" if self.probe == "full" else f"probe {self.probe.replace('_', ' ')}"


@OBSERVABLES.register
class EffectiveRank(_PositionRank):
    """Position-averaged effective rank of the residual stream, a vector along layer (default: trained, layers '1:').

    erank = exp(−Σ p_k ln p_k), p_k = σ_k / Σσ_j over the singular values σ of the centred N×d
    residual stream at one position (Roy & Vetterli 2007), stored per position as `effective_rank`
    and averaged over positions here. Role token / mask: over the rows whose input is a vocabulary
    symbol / [MASK] (`effective_rank_rows`); masked / visible: scored / unscored rows pooled over
    positions (`effective_rank_role`).
    """

    kind: Literal["effective_rank"] = "effective_rank"
    variable: ClassVar[str] = "effective_rank"
    roles: ClassVar[tuple[str, ...]] = ("all", "token", "mask", "masked", "visible")


@OBSERVABLES.register
class EffectiveRankPooled(_LayerVariable):
    """Effective rank after mean-pooling over positions (`effective_rank_pooled`), a vector along layer.

    The mean-pooling artifact the paper controls for: pooled "collapse" can come from the data alone.
    """

    kind: Literal["effective_rank_pooled"] = "effective_rank_pooled"
    variable: ClassVar[str] = "effective_rank_pooled"


@OBSERVABLES.register
class ParticipationRatio(_PositionRank):
    """Position-averaged participation ratio PR = (Σλ)² / Σλ², λ = σ² (Gao et al. 2017), a vector along layer."""

    kind: Literal["participation_ratio"] = "participation_ratio"
    variable: ClassVar[str] = "participation_ratio"


@OBSERVABLES.register
class ParticipationRatioPooled(_LayerVariable):
    """Participation ratio after mean-pooling over positions (`participation_ratio_pooled`), along layer."""

    kind: Literal["participation_ratio_pooled"] = "participation_ratio_pooled"
    variable: ClassVar[str] = "participation_ratio_pooled"


@OBSERVABLES.register
class StableRank(_PositionRank):
    """Position-averaged stable rank Σσ² / σ_max² (Rudelson & Vershynin 2007), a vector along layer."""

    kind: Literal["stable_rank"] = "stable_rank"
    variable: ClassVar[str] = "stable_rank"


@OBSERVABLES.register
class StableRankPooled(_LayerVariable):
    """Stable rank after mean-pooling over positions (`stable_rank_pooled`), a vector along layer."""

    kind: Literal["stable_rank_pooled"] = "stable_rank_pooled"
    variable: ClassVar[str] = "stable_rank_pooled"


_COLLAPSIBLE: dict[str, type[_LayerVariable]] = {
    cls.variable: cls for cls in (EffectiveRank, EffectiveRankPooled, ParticipationRatio, StableRank)
}


@OBSERVABLES.register
class RankCollapse(AbstractObservable):
    """Rank collapse per seed: drop over the selected layers after training minus the drop at init.

    drop(stage) = r(first selected layer) − r(last selected layer), r the rank measure `of`
    (default: position-averaged effective rank, layers '1:') on the rows `role` selects. With
    ``stage`` unset the value is C = drop(trained) − drop(init), the paper's collapse C(ξ); with
    ``stage`` set it is drop(stage) alone. ``probe`` as for the rank measures.
    """

    kind: Literal["rank_collapse"] = "rank_collapse"
    of: Literal[tuple(_COLLAPSIBLE)] = Field("effective_rank", description="rank measure whose drop is taken")  # type: ignore[valid-type]
    probe: Probe = _PROBE_FIELD
    dim: ClassVar[str | None] = None
    default_stage: ClassVar[str | None] = None
    default_layers: ClassVar[str | None] = "1:"
    roles: ClassVar[tuple[str, ...]] = EffectiveRank.roles

    def _rank(self) -> _LayerVariable:
        cls = _COLLAPSIBLE[self.of]
        return cls(probe=self.probe) if issubclass(cls, _PositionRank) else cls()

    def check_selection(self, stage: str | int | None, layers: str | None, role: str, *, resolved: bool = False) -> None:
        rank = self._rank()
        if role not in rank.roles:
            raise ValueError(f"rank_collapse of {self.of!r} supports role {' | '.join(rank.roles)} (got {role!r})")
        rank.check_selection(stage, layers, role, resolved=resolved)

    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        rank = self._rank()

        def drop(s: str, probe: str) -> xr.DataArray:
            r = rank.profile(ds, stage=s, sel=sel, role=role, probe=probe)
            if r.sizes["layer"] == 0:
                raise ObservableUnavailable(f"rank_collapse: the layer selection is empty in case {case_name(ds)}")
            return r.isel(layer=0, drop=True) - r.isel(layer=-1, drop=True)

        def collapse(probe: str) -> xr.DataArray:
            return drop(stage, probe) if stage is not None else drop("trained", probe) - drop("init", probe)

        if self.probe == "full_minus_half":
            return collapse("full") - collapse("half")
        return collapse(self.probe)

    def _label_extra(self, stage: str | int | None) -> str:
        of = "" if self.of == "effective_rank" else f"of {self.of}"
        probe = "" if self.probe == "full" else f"probe {self.probe.replace('_', ' ')}"
        return ", ".join(p for p in (of, "trained − init" if stage is None else "", probe) if p)


@OBSERVABLES.register
class MaskDistance(_LayerVariable):
    """Distance of the [MASK] stream from the token cloud, in token-cloud radii, a vector along layer.

    At each position, over the probe rows: D = ‖μ_mask − μ_token‖ / r_token, with μ the mean stream
    of the rows whose input is [MASK] / a vocabulary symbol and r_token = (mean ‖h − μ_token‖²)^½
    the token cloud's RMS radius; stored per position (`mask_distance`), averaged over the
    positions that hold a [MASK] row. A large or growing D with a falling all-row rank means the
    rank moves because one symbol's point moves. Default layers: all (0 … L).
    """

    kind: Literal["mask_distance"] = "mask_distance"
    variable: ClassVar[str] = "mask_distance"
    default_layers: ClassVar[str | None] = None

    def profile(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str, probe: str = "full") -> xr.DataArray:
        da = at_stage(variable(ds, self.variable), stage, ds)
        return _position_mean(da, skip_missing=True).isel(layer=sel)


class _TransitionVariable(AbstractObservable):
    """Base: a stored (seed, stage, transition) variable; `layers` keeps transitions within the selected layers."""

    dim: ClassVar[str | None] = "transition"
    variable: ClassVar[str]

    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        da = at_stage(variable(ds, self.variable), stage, ds)
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


class _AttentionVariable(_TransitionVariable):
    """Base: a stored (seed, stage, transition, head) attention observable of a network that attends,
    a vector along transition (the block ℓ→ℓ+1); `head` picks one head, default the mean over heads."""

    head: int | None = Field(None, ge=0, le=1023, description="one attention head (default: the mean over heads)")

    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        if self.variable not in ds.data_vars:
            raise ObservableUnavailable(
                f"{self.variable!r} is stored only for networks with attention (architecture kind transformer)"
            )
        da = super()._values(ds, stage=stage, sel=sel, role=role)
        if self.head is None:
            return da.mean("head")
        if self.head >= da.sizes["head"]:
            raise ObservableUnavailable(f"head {self.head} does not exist: the network has {da.sizes['head']} heads")
        return da.isel(head=self.head, drop=True)


@OBSERVABLES.register
class AttentionEntropy(_AttentionVariable):
    """Attention entropy −Σ_s p_ts log p_ts (nats) per block, mean over queries, probe sequences and heads.

    0 for one-hot attention, log T for uniform attention over T keys (log(2r + 1) at most under
    ``window:r``). `rgbench.observables.attention_entropy`."""

    kind: Literal["attention_entropy"] = "attention_entropy"
    variable: ClassVar[str] = "attention_entropy"


@OBSERVABLES.register
class AttentionFreeEnergy(_AttentionVariable):
    """Log-partition function log Σ_s exp(score_ts) of a query's attention (nats) per block, mean over queries,
    probe sequences and heads: attention read as a Boltzmann distribution over keys at unit temperature
    (the "partition function" analogy). `rgbench.observables.attention_free_energy`."""

    kind: Literal["attention_free_energy"] = "attention_free_energy"
    variable: ClassVar[str] = "attention_free_energy"


@OBSERVABLES.register
class AttentionDistance(_AttentionVariable):
    """Mean attention distance Σ_s p_ts |t − s| (positions) per block, mean over queries, probe sequences and
    heads: (T² − 1)/(3T) for uniform full attention, at most r under ``window:r``.
    `rgbench.observables.attention_distance`."""

    kind: Literal["attention_distance"] = "attention_distance"
    variable: ClassVar[str] = "attention_distance"


def top_share(v: np.ndarray, top: int) -> np.ndarray:
    """Share of the `top` largest entries in the total along the last axis (negatives clipped to 0)."""
    v = np.clip(np.asarray(v, dtype=float), 0.0, None)
    total = v.sum(axis=-1)
    k = min(top, v.shape[-1])
    top_sum = -np.sort(-v, axis=-1)[..., :k].sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, top_sum / total, np.nan)


def _transitions(ds: xr.Dataset, name: str, stage: str | int | None, sel: slice, what: str) -> xr.DataArray:
    da = _select_transitions(at_stage(variable(ds, name), stage, ds), ds, sel).transpose("seed", "transition")
    if da.sizes["transition"] == 0:
        raise ObservableUnavailable(f"{what}: no transition selected in case {case_name(ds)}")
    return da


def _share(ds: xr.Dataset, name: str, stage: str | int | None, sel: slice, top: int, *, square: bool = False) -> np.ndarray:
    """The top-`top` share of `name` over the selected transitions, per seed."""
    v = _transitions(ds, name, stage, sel, "drift_concentration").values.astype(float) ** (2 if square else 1)
    return _checked_share(v, top, ds, name)


def _checked_share(v: np.ndarray, top: int, ds: xr.Dataset, name: str) -> np.ndarray:
    share = top_share(v, top)
    if np.isnan(share).any() and not np.isnan(v).any():
        raise ObservableUnavailable(f"drift_concentration: total {name} is zero for some seed of case {case_name(ds)}")
    return share


@OBSERVABLES.register
class DriftConcentration(AbstractObservable):
    """Share of the total drift carried by the `top` largest transitions, one value per seed.

    share = Σ_{top k} v_ℓ / Σ_ℓ v_ℓ over the selected transitions of `of` (negative values, numerical
    noise of 1 − CKA, are clipped to 0). ``relative_to`` judges it against its own nulls:
    ``update_ratio`` divides by the same share of the squared update ratio u_ℓ² (1 − CKA ≈ c·u² for
    a small update, so a ratio near 1 says the "concentration" is only that some blocks move the
    stream more); ``even`` divides by the even-spread share k / n of n selected transitions.

    ``leave_one_out: true`` makes the value robust to the choice of transitions: the statistic is
    computed n times, each time with one of the n selected transitions left out (the even share then
    k / (n − 1)), and the smallest of the n values is the seed's value — a threshold on it passes only
    where the concentration holds whichever single transition is dropped.
    """

    kind: Literal["drift_concentration"] = "drift_concentration"
    of: Literal["kernel_drift", "update_ratio"] = Field("kernel_drift", description="per-transition measure")
    top: int = Field(2, ge=1, description="number of largest transitions whose share is taken")
    relative_to: Literal["update_ratio", "even"] | None = Field(
        None, description="divide by the top-k share of the squared update ratio, or by the even-spread share k/n"
    )
    leave_one_out: bool = Field(
        False,
        description="the smallest value over the selections that leave out one transition each (robust to the window)",
    )
    dim: ClassVar[str | None] = None

    @model_validator(mode="after")
    def _meaningful(self):
        if self.relative_to == "update_ratio" and self.of == "update_ratio":
            raise ValueError("`relative_to: update_ratio` compares kernel drift with the update ratio; set `of: kernel_drift`")
        return self

    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        v = _transitions(ds, self.of, stage, sel, "drift_concentration").values.astype(float)
        u2 = (
            _transitions(ds, "update_ratio", stage, sel, "drift_concentration").values.astype(float) ** 2
            if (self.relative_to == "update_ratio")
            else None
        )
        n = v.shape[1]
        if not self.leave_one_out:
            share = self._statistic(v, u2, ds)
        elif n <= self.top:
            raise ObservableUnavailable(
                f"drift_concentration: leave_one_out needs more than top = {self.top} selected transitions; "
                f"case {case_name(ds)} has {n}"
            )
        else:
            keep = [np.delete(np.arange(n), i) for i in range(n)]
            share = np.min([self._statistic(v[:, k], None if u2 is None else u2[:, k], ds) for k in keep], axis=0)
        seeds = variable(ds, self.of)["seed"].values
        import xarray as xr

        return xr.DataArray(share, dims=("seed",), coords={"seed": seeds})

    def _statistic(self, v: np.ndarray, u2: np.ndarray | None, ds: xr.Dataset) -> np.ndarray:
        """The (relative) top share of per-seed values `v` (seed, transition); `u2`: squared update ratios."""
        share = _checked_share(v, self.top, ds, self.of)
        if self.relative_to == "update_ratio":
            share = share / _checked_share(u2, self.top, ds, "update_ratio")
        elif self.relative_to == "even":
            n = v.shape[1]
            share = share / (min(self.top, n) / n)
        return share

    def _label_extra(self, stage: str | int | None) -> str:
        rel = {None: "", "update_ratio": " ÷ the same of update_ratio²", "even": " ÷ even share"}[self.relative_to]
        return f"top {self.top} of {self.of}{rel}" + (", smallest with one transition left out" if self.leave_one_out else "")


@OBSERVABLES.register
class DominantTransition(AbstractObservable):
    """Index ℓ of the transition ℓ→ℓ+1 with the largest `of` (kernel drift by default), one value per seed.

    Whether the dominant transition moves with ξ is a paired comparison of this index between cases
    (e.g. ``equivalence`` with δ = 0.5: the same transition in both).
    """

    kind: Literal["dominant_transition"] = "dominant_transition"
    of: Literal["kernel_drift", "update_ratio"] = Field("kernel_drift", description="per-transition measure")
    dim: ClassVar[str | None] = None

    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        da = _transitions(ds, self.of, stage, sel, "dominant_transition")
        v = da.values.astype(float)
        labels = np.asarray(da["transition"].values, dtype=float)
        idx = np.where(np.isnan(v).any(axis=1), np.nan, labels[np.argmax(np.nan_to_num(v, nan=-np.inf), axis=1)])
        import xarray as xr

        return xr.DataArray(idx, dims=("seed",), coords={"seed": da["seed"].values})

    def _label_extra(self, stage: str | int | None) -> str:
        return f"argmax of {self.of}"
