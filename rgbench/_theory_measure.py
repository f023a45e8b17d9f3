"""The measured side of `rgbench.theory`: what a case stores at init for the theories to read.

`theory_variables` is called from ``rgbench.measure.measure``. Every value is computed on the
networks at init, each seed drawn independently (seed s is built from ``fold_in(key(s), 0)`` like
every other case), from the symbol table: the stream of every symbol 0 … V (V = [MASK]) at every
layer. Those are tokenwise facts; architectures that mix positions get none of them. The data-side
values (the probe's symbol weighting, the input's exact pooled covariance, an independent draw of
sequences per seed) are stored for every case.
"""

from __future__ import annotations

import functools
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from .theory import pooled_covariance, weighting_effective_rank

if TYPE_CHECKING:
    import xarray as xr

    from .inputs import AbstractInput
    from .train import TrainResult

__all__ = ["theory_variables", "THEORY_DATA_STREAM", "DATA_DRAW_SEQUENCES"]

THEORY_DATA_STREAM = 3
"""fold_in index of the data draws of `theory_variables` under seed s's key (0: init, 1: training data)."""

DATA_DRAW_SEQUENCES = 2048
"""Sequences per seed in the data-side draws (``data_effective_rank_pooled``): the erank's finite-sample
bias, ≈ (V−1)²/(8N) for an isotropic spectrum, is then below 0.02 at V = 16."""


_VARIABLE_ATTRS: dict[str, tuple[str, str]] = {
    "init_sq_norm": ("q = |h_l(s)|^2 / width of a symbol's stream at init, averaged over the V + 1 symbols", "1"),
    "init_sq_norm_sq": ("q^2, q = |h_l(s)|^2 / width of a symbol's stream at init, averaged over the V + 1 symbols", "1"),
    "init_correlation": (
        "cosine between the init streams of two different symbols, averaged over symbol pairs (pairs with an all-zero stream left out)",
        "1",
    ),
    "init_input_correlation": ("cosine between the layer-0 (embedding) streams of two different symbols at init, per pair", "1"),
    "input_symbol_effective_rank": ("effective rank of the centred one-hot of the probe's input symbols at one position", "1"),
    "input_pooled_covariance": ("exact covariance of the position-mean one-hot histogram of one sequence", "1"),
    "data_effective_rank_pooled": (
        "effective rank of the position-mean one-hot histograms of an independent draw of sequences, per seed",
        "1",
    ),
}


def _symbol_streams(models) -> np.ndarray | None:
    """Per seed, the stream of every symbol at every layer (row 0 of the symbol table): (seed, symbol, layer, width)."""
    from .train import symbol_tables

    tables = symbol_tables(models)  # the one compiled program measurement uses too
    return None if tables is None else tables[:, 0]


def _stream_statistics(streams: np.ndarray) -> dict[str, np.ndarray]:
    """init_sq_norm and init_sq_norm_sq (seed, layer): the mean over symbols of q = ‖h‖²/n and of q²;
    init_correlation (seed, layer); init_input_correlation (seed, pair): layer-0 cosines of the pairs a < b."""
    h = np.moveaxis(streams.astype(np.float64), 2, 1)  # (seed, layer, symbol, width)
    width = h.shape[-1]
    sq = np.einsum("...i,...i->...", h, h)
    a, b = np.triu_indices(h.shape[2], k=1)
    correlation = np.empty(h.shape[:2])
    first = None
    for layer in range(h.shape[1]):  # one layer's (seed, symbol, symbol) cosines at a time: (V + 1)² each
        with np.errstate(divide="ignore", invalid="ignore"):
            unit = h[:, layer] / np.sqrt(sq[:, layer])[..., None]
        cos = np.einsum("sai,sbi->sab", unit, unit)[:, a, b]
        with warnings.catch_warnings():
            # A stream that is exactly 0 (every unit of a ReLU layer off: probability 2^−n per symbol and
            # layer) has no cosine; its pairs are left out of the mean, and a seed with no pair left is NaN.
            warnings.simplefilter("ignore", RuntimeWarning)
            correlation[:, layer] = np.nanmean(cos, axis=-1)
        if layer == 0:
            first = cos
    return {
        "init_sq_norm": (sq / width).mean(axis=-1),
        "init_sq_norm_sq": ((sq / width) ** 2).mean(axis=-1),
        "init_correlation": correlation,
        "init_input_correlation": first,
    }


@functools.lru_cache(maxsize=16)
def _histogram_program(data: AbstractInput, n: int):
    """Jitted: seed keys → per seed, the position-mean one-hot histograms of n fresh sequences (seed, n, vocab)."""
    import jax
    import jax.numpy as jnp

    vocab, length = data.vocab, data.length

    def one(key):
        tokens = data.sample(key, n)
        counts = jax.vmap(lambda row: jnp.bincount(row, length=vocab))(tokens)
        return counts.astype(jnp.float32) / length

    return jax.jit(lambda keys: jax.lax.map(one, keys))


def _data_draws(data: AbstractInput, seeds: np.ndarray, n: int) -> np.ndarray:
    """Per seed s, histograms of n sequences drawn from ``fold_in(key(s), THEORY_DATA_STREAM)``: (seed, n, vocab)."""
    from .train import seed_stream_keys

    return np.asarray(_histogram_program(data, n)(seed_stream_keys(seeds.tolist(), THEORY_DATA_STREAM)))


def theory_variables(case: Any, data: AbstractInput, result: TrainResult, inputs: np.ndarray) -> xr.Dataset:
    """The stored variables the theory observables and theories read, as a Dataset to merge into the case.

    * ``init_sq_norm``, ``init_sq_norm_sq`` (seed, layer): the mean over the symbols 0 … V of
      q = ‖h_ℓ‖²/n and of q² (all the fourth-moment and norm-growth observables need, at 2/(V + 1)
      of the per-symbol storage); ``init_correlation`` (seed, layer); ``init_input_correlation``
      (seed, pair): the layer-0 cosine of each symbol pair a < b (coordinates ``symbol_a``,
      ``symbol_b``) — for architectures with a symbol table (tokenwise, plain); absent otherwise;
    * ``input_symbol_effective_rank`` (position): erank of the centred one-hot of the probe's input
      symbols (V + 1 classes, [MASK] included) at each position — the tokenwise-symmetry value;
    * ``input_pooled_covariance`` (token, token2): exact covariance of the pooled one-hot histogram;
    * ``data_effective_rank_pooled`` (seed): erank of the pooled histograms of an independent draw of
      ``DATA_DRAW_SEQUENCES`` sequences per seed (key ``fold_in(key(seed), THEORY_DATA_STREAM)``).

    ``inputs`` is the probe batch (n, position) the stages were measured on. ``case`` is a
    `rgbench.suite.Case`, or anything with its ``seed_list`` and ``measure`` (the suite package imports this
    module through measurement, so the type is not imported here).
    """
    from .observables import rank_measures

    seeds = np.asarray(case.seed_list)
    import xarray as xr

    out: dict[str, xr.DataArray] = {}
    streams = _symbol_streams(result.init)
    if streams is not None:
        stats = _stream_statistics(streams)
        layer = np.arange(streams.shape[2])
        sym_a, sym_b = np.triu_indices(streams.shape[1], k=1)
        for name in ("init_sq_norm", "init_sq_norm_sq", "init_correlation"):
            out[name] = xr.DataArray(stats[name], dims=("seed", "layer"), coords={"seed": seeds, "layer": layer})
        out["init_input_correlation"] = xr.DataArray(
            stats["init_input_correlation"],
            dims=("seed", "pair"),
            coords={"seed": seeds, "symbol_a": ("pair", sym_a), "symbol_b": ("pair", sym_b)},
        )
    inputs = np.asarray(inputs)
    out["input_symbol_effective_rank"] = xr.DataArray(
        weighting_effective_rank(inputs.T, data.vocab + 1), dims=("position",), coords={"position": np.arange(inputs.shape[1])}
    )
    tokens = np.arange(data.vocab)
    out["input_pooled_covariance"] = xr.DataArray(
        pooled_covariance(data.lag_joint, data.stationary(), data.length),
        dims=("token", "token2"),
        coords={"token": tokens, "token2": tokens},
    )
    hist = _data_draws(data, seeds, DATA_DRAW_SEQUENCES)
    out["data_effective_rank_pooled"] = xr.DataArray(
        rank_measures(hist, nonfinite="nan")["effective_rank"],
        dims=("seed",),
        coords={"seed": seeds},
        attrs={"sequences_per_draw": DATA_DRAW_SEQUENCES},
    )
    for name, da in out.items():
        long_name, units = _VARIABLE_ATTRS[name]
        da.attrs.update(long_name=long_name, units=units)
        # q and q² of deep unnormalised stacks can pass float32's range (q² ~ 2^128 at depth 64, α = 1).
        out[name] = da.astype(np.float32) if name in ("init_correlation", "init_input_correlation") else da
    if "init_input_correlation" in out:
        # Cosines in [−1, 1], stored as int16 with a quantum of 1/32000 (3e-5, far below any tolerance
        # a correlation prediction uses): half the bytes of float32, for (seed × pair) values that are
        # most of a many-seed theory store. xarray decodes them to floats on read.
        out["init_input_correlation"].encoding.update(dtype="int16", scale_factor=1 / 32000, _FillValue=np.int16(-32768))
    return xr.Dataset(out)
