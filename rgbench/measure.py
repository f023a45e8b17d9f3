"""Trained model + probe batch → labeled xarray.Dataset (the public data contract: docs/guide.md "The stored data").

The probe batch is drawn once per case from a fixed key that does not depend on the seed, so every
layer, stage and seed of a case is measured on the same rows (and two cases with the same input see
the same probe sequences). Residual streams are measured at every layer ℓ = 0 … L:

* per position t: the N × d matrix of the stream at t over probe samples → effective rank,
  participation ratio, stable rank (dims seed, stage, layer, position);
* mean-pooled over positions → the same, ``*_pooled`` (seed, stage, layer) — the artefact-prone
  summary the paper controls for;
* by role: the (sample, position) rows that are scored ("masked") and an equally many rows that are
  not ("visible") → ``effective_rank_role`` (seed, stage, layer, role);
* by input, per position: the rows whose input is a vocabulary symbol ("token") and those whose
  input is [MASK] ("mask"), and for the finite-sample check the first N/2 probe sequences ("half",
  "token_half") → ``<measure>_rows`` (seed, stage, layer, position, rows); and the distance of the
  [MASK] rows' mean from the token cloud in token-cloud radii → ``mask_distance`` (a context-free
  network's stream takes one of V + 1 values at a position, so its rank can move only because the
  [MASK] point moves: these variables tell that apart);
* ``kernel_drift`` = 1 − CKA(H_ℓ, H_ℓ₊₁) and ``cka`` (every pair of layers), computed per position
  and averaged over positions; ``update_ratio`` = ‖H_ℓ₊₁ − H_ℓ‖_F / ‖H_ℓ‖_F over the whole batch;
* the data-side baseline: the same rank measures of the one-hot clean tokens (per position and
  pooled), so a pooled "collapse" that the data already has is visible.

Observables of a seed that diverged are NaN at every stage after init (the trained stage and any
step of training named in ``measure.stages``), so nothing can pass on them. Each stage's training
step is the coordinate ``stage_step`` along ``stage`` (0 at init, ``train.steps`` once trained).
"""

from __future__ import annotations

import warnings
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._attention_measure import ATTENTION_ATTRS

__all__ = ["MeasureConfig", "measure", "measure_streams", "measure_tables", "PROBE_KEY"]

PROBE_KEY = 2**31 - 2  # seed-independent: every seed and stage is measured on the same rows


class MeasureConfig(BaseModel):
    """What is measured on a case, and on how many probe samples."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    samples: int = Field(512, ge=2, le=1_000_000, description="probe sequences N (use N ≥ 4·width)")
    stages: list[Literal["init", "trained"] | Annotated[int, Field(ge=1, le=10_000_000)]] = Field(
        default_factory=lambda: ["init", "trained"],
        min_length=1,
        description="parameter snapshots measured: init, trained, and steps of training in between (each a multiple "
        "of train.log_every below train.steps), e.g. [init, 500, 2000, trained]: the same run measures the flow over "
        "training; a step's stage is labelled by its number (a prediction names it as `stage: 500`)",
    )
    role_samples: int = Field(
        2048,
        ge=2,
        le=1_000_000,
        description="rows per role (masked / visible) for effective_rank_role, capped by what the probe has",
    )

    @field_validator("stages")
    @classmethod
    def _distinct(cls, stages: list) -> list:
        repeated = sorted({str(s) for s in stages if stages.count(s) > 1})
        if repeated:
            raise ValueError(f"stages must be distinct; {', '.join(repeated)} appears more than once")
        return stages

    @property
    def step_stages(self) -> tuple[int, ...]:
        """The training steps among `stages` (ascending)."""
        return tuple(sorted(s for s in self.stages if isinstance(s, int)))

    cka: bool = Field(
        True,
        description="store the layer × layer CKA matrix (seed · layer² values per stage; kernel_drift, its "
        "first off-diagonal, is stored either way) — turn off for deep many-seed cases to keep the store small",
    )


_ATTRS: dict[str, tuple[str, str]] = {
    "effective_rank": (
        "Roy-Vetterli effective rank (singular-value entropy) of the centred residual stream at one position over probe samples",
        "1",
    ),
    "participation_ratio": (
        "participation ratio (sum lambda)^2 / sum lambda^2 of the centred residual stream at one position",
        "1",
    ),
    "stable_rank": ("stable rank sum sigma^2 / sigma_max^2 of the centred residual stream at one position", "1"),
    "effective_rank_pooled": ("effective rank of the position-mean-pooled residual stream", "1"),
    "participation_ratio_pooled": ("participation ratio of the position-mean-pooled residual stream", "1"),
    "stable_rank_pooled": ("stable rank of the position-mean-pooled residual stream", "1"),
    "effective_rank_role": ("effective rank of the residual stream over (sample, position) rows of one role", "1"),
    "effective_rank_rows": ("effective rank of the residual stream at one position over a subset of probe rows", "1"),
    "participation_ratio_rows": ("participation ratio of the residual stream at one position over a subset of probe rows", "1"),
    "stable_rank_rows": ("stable rank of the residual stream at one position over a subset of probe rows", "1"),
    "mask_distance": (
        "distance of the mean [MASK]-input stream from the mean token-input stream at one position, "
        "in RMS radii of the token-input rows",
        "1",
    ),
    "kernel_drift": ("1 - linear CKA between the sample kernels of layer l and l+1, averaged over positions", "1"),
    "update_ratio": ("||h_(l+1) - h_l||_F / ||h_l||_F over the probe batch", "1"),
    "cka": ("linear CKA between the sample kernels of two layers, averaged over positions", "1"),
    "input_effective_rank": ("effective rank of the one-hot clean tokens at one position (data-side baseline)", "1"),
    "input_effective_rank_pooled": ("effective rank of the position-mean one-hot histogram (data-side baseline)", "1"),
    "input_participation_ratio_pooled": ("participation ratio of the position-mean one-hot histogram", "1"),
}


def _rank_block(x: np.ndarray, rows: np.ndarray | None = None, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    from .observables import rank_measures

    return rank_measures(x, nonfinite="nan", rows=rows, weights=weights)


ROWS = ("token", "mask", "half", "token_half")  # the `rows` coordinate of `<measure>_rows`


def _compact_rows(per_pos: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The selected rows of each position gathered to the front: (…, position, m, d) and their mask (position, m).

    m = the largest count over positions, so a rare row kind (the [MASK] rows, ~12 % of the probe)
    is measured on m rows instead of all N (the padding rows are deselected)."""
    counts = rows.sum(axis=1)
    m = max(int(counts.max()), 2)
    order = np.argsort(~rows, axis=1, kind="stable")[:, :m]  # selected rows first, in probe order
    keep = np.take_along_axis(rows, order, axis=1)
    index = order.reshape((1,) * (per_pos.ndim - 3) + order.shape + (1,))
    return np.take_along_axis(per_pos, index, axis=-2), keep


def _rows_variables(out: dict[str, np.ndarray], blocks: dict[str, dict[str, np.ndarray] | None]) -> dict[str, np.ndarray]:
    """``<measure>_rows`` (…, rows) from the per-`ROWS` blocks; a block that could not be formed is nan."""
    return {
        name + "_rows": np.stack([np.full(value.shape, np.nan) if blocks[r] is None else blocks[r][name] for r in ROWS], axis=-1)
        for name, value in out.items()
    }


def _role_ranks(
    scored: np.ndarray, cfg: MeasureConfig, rng: np.random.Generator, rows_at: Any, shape: tuple[int, int]
) -> np.ndarray:
    """effective_rank_role (seed, layer, role): m random scored and m unscored (sample, position) rows.

    `rows_at(pick)` gives the streams (seed, layer, m, d) of the flat row indices n_i·T + t_i in `pick`."""
    masked_rows, visible_rows = np.flatnonzero(scored.reshape(-1)), np.flatnonzero(~scored.reshape(-1))
    m = min(len(masked_rows), len(visible_rows), cfg.role_samples)
    role = np.full((*shape, 2), np.nan)
    if m >= 2:
        for r, rows in enumerate((masked_rows, visible_rows)):
            pick = np.sort(rng.choice(rows, size=m, replace=False))
            role[:, :, r] = _rank_block(rows_at(pick))["effective_rank"]
    return role


def measure_streams(
    streams: np.ndarray, scored: np.ndarray, cfg: MeasureConfig, *, rng: np.random.Generator, is_mask: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Observables of one stage. streams: (seed, n, layer, position, width); scored, is_mask: (n, position).

    `is_mask` marks the rows whose input is [MASK] (default: none, e.g. an input without masking).
    """
    from .observables import cka_matrix, cloud_distance, kernel_drift, update_ratio

    s, n, nl, t, d = streams.shape
    per_pos = np.moveaxis(streams, 1, 3)  # (seed, layer, position, n, d)
    out: dict[str, np.ndarray] = {}
    for name, value in _rank_block(per_pos).items():
        out[name] = value  # (seed, layer, position)

    mask_rows = np.zeros((t, n), bool) if is_mask is None else np.asarray(is_mask, bool).T  # (position, n)
    token_rows = ~mask_rows
    half = n // 2
    compact, keep = _compact_rows(per_pos, mask_rows)
    blocks = {
        "token": _rank_block(per_pos, rows=token_rows),
        "mask": _rank_block(compact, rows=keep),
        "half": _rank_block(per_pos[..., :half, :]) if half >= 2 else None,
        "token_half": _rank_block(per_pos[..., :half, :], rows=token_rows[:, :half]) if half >= 2 else None,
    }
    out.update(_rows_variables(out, blocks))
    out["mask_distance"] = cloud_distance(per_pos, mask_rows, token_rows, nonfinite="nan")  # (seed, layer, position)
    for name, value in _rank_block(streams.mean(axis=3).transpose(0, 2, 1, 3)).items():
        out[name + "_pooled"] = value  # (seed, layer)

    flat = np.moveaxis(streams, 2, 1).reshape(s, nl, n * t, d)  # (seed, layer, rows, d)
    out["effective_rank_role"] = _role_ranks(scored, cfg, rng, lambda pick: flat[:, :, pick, :], (s, nl))

    layer_major = np.moveaxis(per_pos, 1, 2)  # (seed, position, layer, n, d)
    out["kernel_drift"] = _position_mean(kernel_drift(layer_major, nonfinite="nan"))  # (seed, transition)
    if cfg.cka:
        out["cka"] = _position_mean(cka_matrix(layer_major, nonfinite="nan"))  # (seed, layer, layer2)
    out["update_ratio"] = update_ratio(flat, nonfinite="nan")  # (seed, transition)
    return out


def measure_tables(
    tables: np.ndarray,
    inputs: np.ndarray,
    scored: np.ndarray,
    cfg: MeasureConfig,
    *,
    rng: np.random.Generator,
    mask_id: int | None = None,
) -> dict[str, np.ndarray]:
    """`measure_streams` for context-free networks, from their symbol tables (the same observables).

    tables: (seed, P, S, layer, width) from `rgbench.train.symbol_tables`; inputs, scored: (n, position).
    At position t the stream of probe row i is ``tables[:, p(t), inputs[i, t]]``, so the N × d matrix
    at (seed, layer, t) holds at most S distinct rows: every rank measure, CKA, update ratio and
    [MASK] distance is computed from those rows weighted by their counts in the probe (exactly the
    same matrices' Gram matrices, so the same values up to float64 rounding; tested against
    `measure_streams`). The pooled and role measures need per-sample rows and gather them.
    """
    from .observables import cka_matrix, cloud_distance, kernel_drift, update_ratio

    s, p, n_sym, nl, d = tables.shape
    n, t = inputs.shape
    prow = np.zeros(t, int) if p == 1 else np.arange(t)
    per_pos = np.moveaxis(tables[:, prow], 3, 1)  # (seed, layer, position, symbol, d)
    onehot = inputs[..., None] == np.arange(n_sym)  # (n, position, symbol)
    mask_rows = np.zeros((n, t), bool) if mask_id is None else inputs == mask_id

    def counts(select: np.ndarray) -> np.ndarray:  # (n, position) → (position, symbol)
        return (onehot & select[..., None]).sum(axis=0).astype(np.float64)

    def block(select: np.ndarray) -> dict[str, np.ndarray]:
        return _rank_block(per_pos, weights=counts(select))

    everything = np.ones((n, t), bool)
    half = n // 2
    first = np.arange(n)[:, None] < half
    out = dict(block(everything))  # (seed, layer, position)
    blocks = {
        "token": block(~mask_rows),
        "mask": block(mask_rows),
        "half": block(np.broadcast_to(first, (n, t))) if half >= 2 else None,
        "token_half": block(first & ~mask_rows) if half >= 2 else None,
    }
    out.update(_rows_variables(out, blocks))
    out["mask_distance"] = cloud_distance(per_pos, counts(mask_rows), counts(~mask_rows), nonfinite="nan")

    def gather(rows: np.ndarray, positions: np.ndarray) -> np.ndarray:  # → (seed, layer, rows, d), as streams hold them
        return np.moveaxis(tables[:, prow[positions], inputs[rows, positions]], 2, 1)

    # Pooled: each probe sequence's position mean, in chunks laid out as `measure_streams` has them.
    pooled = np.empty((s, n, nl, d), np.float32)
    step = max(1, (64 << 20) // max(1, s * nl * t * d * 4))
    for lo in range(0, n, step):
        rows = np.arange(lo, min(n, lo + step))
        chunk = tables[:, prow[None, :], inputs[rows]]  # (seed, chunk, position, layer, d)
        pooled[:, rows] = np.ascontiguousarray(np.moveaxis(chunk, 3, 2)).mean(axis=3)
    for name, value in _rank_block(pooled.transpose(0, 2, 1, 3)).items():
        out[name + "_pooled"] = value  # (seed, layer)

    out["effective_rank_role"] = _role_ranks(scored, cfg, rng, lambda pick: gather(pick // t, pick % t), (s, nl))

    layer_major = np.moveaxis(per_pos, 1, 2)  # (seed, position, layer, symbol, d)
    c_all = counts(everything)  # (position, symbol)
    out["kernel_drift"] = _position_mean(kernel_drift(layer_major, nonfinite="nan", weights=c_all))
    if cfg.cka:
        out["cka"] = _position_mean(cka_matrix(layer_major, nonfinite="nan", weights=c_all))
    out["update_ratio"] = update_ratio(per_pos.reshape(s, nl, t * n_sym, d), nonfinite="nan", weights=c_all.reshape(-1))
    return out


def _position_mean(x: np.ndarray) -> np.ndarray:
    """Mean over axis 1 (positions), skipping positions where CKA is undefined (a constant layer,
    e.g. a tokenwise network at a position that is always [MASK]); all-NaN stays NaN, silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=1)


def data_baseline(tokens: np.ndarray, vocab: int) -> dict[str, np.ndarray]:
    """Rank measures of the one-hot clean tokens: per position and position-mean-pooled."""
    onehot = np.eye(vocab)[tokens]  # (n, position, vocab)
    per_pos = _rank_block(np.moveaxis(onehot, 1, 0))  # (position,)
    pooled = _rank_block(onehot.mean(axis=1))
    return {
        "input_effective_rank": per_pos["effective_rank"],
        "input_effective_rank_pooled": pooled["effective_rank"],
        "input_participation_ratio_pooled": pooled["participation_ratio"],
    }


def measure(case: Any, data: Any, result: Any, *, attrs: dict[str, Any] | None = None):
    """Build the case dataset from a TrainResult (see rgbench.train) and the built input."""
    import xarray as xr

    cfg: MeasureConfig = case.measure
    tokens, inputs, scored = _probe(data, cfg.samples)
    diverged = np.asarray(result.diverged, dtype=bool)
    per_stage = _measure_stages(cfg, data, result, inputs, scored, diverged)

    variables = _observable_variables(per_stage, tokens, data)
    variables.update(_loss_and_input_variables(data, result, diverged))
    ds = xr.Dataset({k: xr.Variable(v[0], v[1], v[2]) for k, v in variables.items()}, coords=_coords(case, cfg, data, result))
    _describe(ds, case, data, cfg.samples)
    from ._theory_measure import theory_variables

    ds.update(theory_variables(case, data, result, inputs))  # per-seed init scalars theory predictions read
    if attrs:
        ds.attrs.update(attrs)
    return ds


def _probe(data: Any, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The probe batch every seed and stage is measured on: clean tokens, corrupted inputs and the
    scored mask, (n, position) each, drawn from `PROBE_KEY`."""
    import jax

    probe_key = jax.random.key(PROBE_KEY)
    tokens = data.sample(jax.random.fold_in(probe_key, 0), n)
    inputs, scored = data.corrupt(jax.random.fold_in(probe_key, 1), tokens)
    return np.asarray(tokens), np.asarray(inputs), np.asarray(scored)


def _measure_stages(
    cfg: MeasureConfig, data: Any, result: Any, inputs: np.ndarray, scored: np.ndarray, diverged: np.ndarray
) -> dict[str, list[np.ndarray]]:
    """Each observable's values per stage, in `cfg.stages` order (seed first); nan for diverged seeds
    at the trained stage."""
    from ._attention_measure import measure_attention
    from .train import forward, symbol_tables

    per_stage: dict[str, list[np.ndarray]] = {}
    for stage in cfg.stages:
        model = result.init if stage == "init" else result.trained if stage == "trained" else result.snapshots[stage]
        tables = symbol_tables(model)
        if tables is not None:  # context-free: measured from its V + 1 distinct rows per position
            values = measure_tables(tables, inputs, scored, cfg, rng=np.random.default_rng(0), mask_id=data.mask_id)
        else:
            streams, _ = forward(model, inputs)
            streams = np.asarray(streams, dtype=np.float32)
            values = measure_streams(streams, scored, cfg, rng=np.random.default_rng(0), is_mask=inputs == data.mask_id)
            del streams
            values.update(measure_attention(model, inputs) or {})
        if stage != "init" and diverged.any():
            for v in values.values():
                v[diverged] = np.nan
        for k, v in values.items():
            per_stage.setdefault(k, []).append(v)
    return per_stage


_DIMS: dict[str, tuple[str, ...]] = {
    "effective_rank": ("seed", "stage", "layer", "position"),
    "participation_ratio": ("seed", "stage", "layer", "position"),
    "stable_rank": ("seed", "stage", "layer", "position"),
    "effective_rank_pooled": ("seed", "stage", "layer"),
    "participation_ratio_pooled": ("seed", "stage", "layer"),
    "stable_rank_pooled": ("seed", "stage", "layer"),
    "effective_rank_role": ("seed", "stage", "layer", "role"),
    "effective_rank_rows": ("seed", "stage", "layer", "position", "rows"),
    "participation_ratio_rows": ("seed", "stage", "layer", "position", "rows"),
    "stable_rank_rows": ("seed", "stage", "layer", "position", "rows"),
    "mask_distance": ("seed", "stage", "layer", "position"),
    "kernel_drift": ("seed", "stage", "transition"),
    "update_ratio": ("seed", "stage", "transition"),
    "cka": ("seed", "stage", "layer", "layer2"),
    "attention_entropy": ("seed", "stage", "transition", "head"),
    "attention_free_energy": ("seed", "stage", "transition", "head"),
    "attention_distance": ("seed", "stage", "transition", "head"),
}  # the measured variables' dims, in the order they are stored


def _stage_step(stage: str | int, steps: int) -> int:
    """The training step a stage's parameters are from: 0 at init, `steps` once trained."""
    return 0 if stage == "init" else steps if stage == "trained" else int(stage)


def _coords(case: Any, cfg: MeasureConfig, data: Any, result: Any) -> dict[str, Any]:
    """The case dataset's coordinates (``layer2`` only when the CKA matrix is stored)."""
    depth = case.architecture.depth
    length = data.length
    coords = {
        "seed": np.asarray(case.seed_list),
        "stage": np.array([str(s) for s in cfg.stages], dtype=object),
        "stage_step": ("stage", np.array([_stage_step(s, case.train.steps) for s in cfg.stages], dtype=np.int64)),
        "layer": np.arange(depth + 1),
        "position": np.arange(length),
        "transition": np.arange(depth),
        "role": np.array(["masked", "visible"], dtype=object),
        "rows": np.array(ROWS, dtype=object),
        "step": np.asarray(result.steps, dtype=np.int64),
        "eig": np.arange(data.vocab),
        "lag": np.arange(length),
    }
    if cfg.cka:
        coords["layer2"] = np.arange(depth + 1)
    heads = getattr(case.architecture, "heads", None)
    if heads is not None:  # a family with attention: its per-head observables
        coords["head"] = np.arange(heads)
    return coords


def _observable_variables(per_stage: dict[str, list[np.ndarray]], tokens: np.ndarray, data: Any) -> dict[str, Any]:
    """(dims, float32 values, attrs) of the measured variables (stage stacked after seed) and the data-side baseline."""
    variables: dict[str, Any] = {}
    for name, dd in _DIMS.items():
        if name not in per_stage:
            continue
        stacked = np.stack(per_stage[name], axis=1).astype(np.float32)  # stage after seed
        variables[name] = (dd, stacked, _cf(name))
    for name, value in data_baseline(tokens, data.vocab).items():
        variables[name] = (("position",) if np.ndim(value) == 1 else (), np.asarray(value, np.float32), _cf(name))
    return variables


def _loss_and_input_variables(data: Any, result: Any, diverged: np.ndarray) -> dict[str, Any]:
    """(dims, values, attrs) of the training losses, the loss floors on the evaluation set and the input's spectrum."""
    bayes, bayes_se = data.bayes_loss(
        np.asarray(result.eval_tokens), np.asarray(result.eval_inputs), np.asarray(result.eval_scored)
    )
    tw, tw_se = data.tokenwise_loss(
        np.asarray(result.eval_tokens), np.asarray(result.eval_inputs), np.asarray(result.eval_scored)
    )
    nats = "nat"
    return dict(
        loss=(
            ("seed", "step"),
            np.asarray(result.loss, np.float32),
            {"long_name": "training loss (masked-token cross-entropy, batch mean)", "units": nats},
        ),
        final_loss=(
            ("seed",),
            np.asarray(result.final_loss, np.float64),
            {"long_name": "masked-token cross-entropy on the fixed evaluation set", "units": nats},
        ),
        diverged=(("seed",), diverged, {"long_name": "training produced a non-finite loss"}),
        bayes_loss=(
            (),
            np.float64(bayes),
            {
                "long_name": "Bayes-optimal full-context cross-entropy on the evaluation set",
                "units": nats,
                "standard_error": float(bayes_se),
            },
        ),
        tokenwise_loss=(
            (),
            np.float64(tw),
            {
                "long_name": "best context-free (tokenwise) cross-entropy on the evaluation set",
                "units": nats,
                "standard_error": float(tw_se),
            },
        ),
        input_eigenvalues=(
            ("eig",),
            np.asarray(data.eigenvalues(), np.complex128),
            {"long_name": "eigenvalues of the input's transition operator, by decreasing modulus", "units": "1"},
        ),
        input_autocorrelation=(
            ("lag",),
            np.asarray(data.autocorrelation(), np.float64),
            {"long_name": "one-hot autocorrelation C(r) = sum_a P(x_t=a, x_t+r=a) - pi_a^2", "units": "1"},
        ),
    )


def _describe(ds: Any, case: Any, data: Any, n: int) -> None:
    """The coordinates' and the dataset's attributes (CF conventions, provenance of the case), in place."""
    ds["layer"].attrs.update(long_name="residual-stream layer (0 = embedding output, L = after the last block)")
    ds["transition"].attrs.update(long_name="layer transition l -> l+1")
    ds["stage"].attrs.update(long_name="parameter snapshot")
    ds["role"].attrs.update(long_name="scored (masked) or unscored (visible) positions")
    ds["rows"].attrs.update(
        long_name="probe rows at a position: token = input is a vocabulary symbol, mask = input is "
        "[MASK], half = the first N/2 probe sequences, token_half = token rows of those"
    )
    ds["step"].attrs.update(long_name="optimizer step")
    ds["position"].attrs.update(long_name="sequence position")
    ds["lag"].attrs.update(long_name="lag r", units="positions")
    ds.attrs.update(
        title=f"rgbench case {case.id}",
        source="rgbench: masked-token training of a residual MLP on synthetic sequences",
        references="arXiv 2606.10324; rgbench README",
        Conventions="CF-1.10",
        xi=float(data.xi),
        probe_samples=n,
        architecture_kind=case.architecture.kind,
        input_kind=case.input.kind,
    )


def _cf(name: str) -> dict[str, str]:
    long_name, units = _ATTRS[name] if name in _ATTRS else ATTENTION_ATTRS[name]
    return {"long_name": long_name, "units": units}
