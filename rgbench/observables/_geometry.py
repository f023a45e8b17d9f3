"""Uncentred geometry of the stream: the relative size of each layer's update and the distance between two row clouds.

Neither is a spectrum or a kernel: `update_ratio` measures the raw residual update, `cloud_distance`
how far the [MASK] point sits from the token cloud.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import ArrayLike, Bool, Float, Real

from ._batching import _flat_items, _map_batched, _run_chunks
from ._checks import NonFinite, _arguments_first


@_arguments_first
def update_ratio(
    xs: Real[ArrayLike, "*batch layer n d"],
    *,
    nonfinite: NonFinite = "raise",
    weights: Real[ArrayLike, "*#batch n"] | None = None,
) -> Float[np.ndarray, "*batch transition"]:
    """Relative size of each block's update: ``‖H_ℓ₊₁ − H_ℓ‖_F / ‖H_ℓ‖_F``, xs (..., L, N, d) → (..., L − 1).

    **Uncentred** (the residual update itself, mean included), on the raw activations. Reported next
    to kernel drift so that one dominant block is not mistaken for a fixed-point plateau
    (``docs/engineering.md``, "Measuring"). IEEE conventions for a zero layer: ``inf`` if the next layer
    is non-zero, ``nan`` if both are zero (no warnings are raised). ``weights`` (..., N): row
    multiplicities shared by all layers, as in :func:`rank_measures`.
    """
    a = np.asarray(xs)
    if a.shape[-3] < 2:
        raise ValueError(f"update ratio needs at least 2 layers along axis -3; got shape {a.shape}")

    def fn(h, scale):
        diff = h[:, 1:] - h[:, :-1]
        num = np.sqrt(np.einsum("blnd,blnd->bl", diff, diff))
        den = np.sqrt(np.einsum("blnd,blnd->bl", h[:, :-1], h[:, :-1]))
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"r": num / den}

    return _map_batched(fn, a, name="xs", center=False, core_ndim=3, normalize=False, nonfinite=nonfinite, weights=weights)["r"]


@_arguments_first
def cloud_distance(
    x: Real[ArrayLike, "*batch n d"],
    a: Bool[ArrayLike, "*#batch n"] | Real[ArrayLike, "*#batch n"],
    b: Bool[ArrayLike, "*#batch n"] | Real[ArrayLike, "*#batch n"],
    *,
    nonfinite: NonFinite = "raise",
) -> Float[np.ndarray, "*batch"]:
    """Distance between the means of two sets of rows, in units of the second set's RMS radius.

    ``D = ‖μ_a − μ_b‖ / r_b`` with ``μ`` the mean row of each set and
    ``r_b = (mean_{i∈b} ‖x_i − μ_b‖²)^½`` (two-pass, float64). In measurement: a = the rows whose
    input is [MASK], b = the token rows, so D says how far the [MASK] symbol's stream sits from the
    cloud of real tokens. ``a``, ``b`` are boolean, broadcast to ``x.shape[:-1]``, or non-negative
    row multiplicities (as ``weights`` in :func:`rank_measures`; a row of weight 0 in both does not
    count). nan where a has no row or b fewer than 2, or where the item holds a non-finite value
    (``nonfinite="nan"``); inf where b's rows are all equal and the means differ.
    """
    arr = np.asarray(x)
    shape = arr.shape[:-1]
    a, b = (np.broadcast_to(v if v.dtype == bool else v.astype(np.float64), shape) for v in map(np.asarray, (a, b)))
    batch, items = _flat_items(arr, 2)
    a_items, b_items = _flat_items(a, 1)[1], _flat_items(b, 1)[1]

    def work(sl: slice) -> np.ndarray:
        h = np.array(items(sl), dtype=np.float64)
        wa, wb = a_items(sl).astype(np.float64), b_items(sl).astype(np.float64)
        h[(wa == 0) & (wb == 0)] = 0.0  # rows in neither set do not count
        na, nb = wa.sum(axis=-1), wb.sum(axis=-1)
        finite = np.isfinite(h).all(axis=(-2, -1))
        if not finite.all():
            if nonfinite == "raise":
                raise ValueError(
                    "`x` contains non-finite values (nan or inf); pass nonfinite='nan' to get nan for such items instead"
                )
            h[~finite] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mu_a = np.einsum("bn,bnd->bd", wa, h) / na[:, None]
            mu_b = np.einsum("bn,bnd->bd", wb, h) / nb[:, None]
            mu_b += np.einsum("bn,bnd->bd", wb, h - mu_b[:, None, :]) / nb[:, None]  # second pass: the mean's rounding
            h -= mu_b[:, None, :]
            radius = np.sqrt(np.einsum("bn,bn->b", wb, np.einsum("bnd,bnd->bn", h, h)) / nb)
            dist = np.linalg.norm(mu_a - mu_b, axis=-1) / radius
        return np.where(finite & (na >= 1) & (nb >= 2), dist, np.nan)

    parts = _run_chunks(batch, 8 * int(np.prod(arr.shape[-2:])), work)
    return (np.concatenate(parts) if parts else np.zeros(0)).reshape(shape[:-1])
