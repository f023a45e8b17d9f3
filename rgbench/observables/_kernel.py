"""Linear CKA (biased and debiased) between two representations, between every pair of layers, and kernel drift.

Cross products in feature space or Gram space, whichever is cheaper; the unbiased HSIC terms without N×N matrices.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from jaxtyping import ArrayLike, Float, Real

from ._batching import _flat_items, _map_batched, _prepare, _run_chunks
from ._checks import NonFinite, _arguments_first

# Everything is written in terms of K = XXᵀ without forming it unless N < d:
#   tr(KL) = ‖XᵀY‖_F²  (feature space, cost N·dx·dy)  or  Σ_ij K_ij L_ij  (Gram space, N²),
#   diag K = row norms², K𝟙 = X(Xᵀ𝟙).
# The unbiased HSIC estimator (Song et al. 2012, eq. 5) on K̃, L̃ = K, L with zeroed diagonals is
#   HSIC₁ = [tr(K̃L̃) + (𝟙ᵀK̃𝟙)(𝟙ᵀL̃𝟙)/((n−1)(n−2)) − 2/(n−2)·(K̃𝟙)ᵀ(L̃𝟙)] / (n(n−3)),
# with tr(K̃L̃) = tr(KL) − Σ_i K_ii L_ii and K̃𝟙 = K𝟙 − diag K, so it too costs no N×N matrix.
# The factor 1/(n(n−3)) (and 1/(n−1)² of the biased HSIC) cancels in the CKA ratio.


def _kernel_terms(x: np.ndarray) -> dict[str, np.ndarray]:
    """Per-matrix terms of the unbiased HSIC for x (..., N, d): diag K, K̃𝟙 and 𝟙ᵀK̃𝟙."""
    k = np.einsum("...nd,...nd->...n", x, x)
    s = x.sum(axis=-2)
    k1 = np.matmul(x, s[..., None])[..., 0] - k
    return {"diag": k, "rowsum": k1, "total": np.einsum("...d,...d->...", s, s) - k.sum(axis=-1)}


def _hsic_unbiased(tr_kl, diag_dot, total_k, total_l, rowsum_dot, n: int):
    """n(n−3)·HSIC₁ from its pieces (Song et al. 2012); broadcasts over all arguments."""
    return (tr_kl - diag_dot) + total_k * total_l / ((n - 1) * (n - 2)) - 2.0 * rowsum_dot / (n - 2)


def _hsic_pair(p: dict[str, np.ndarray], q: dict[str, np.ndarray], tr_kl: np.ndarray, n: int) -> np.ndarray:
    """n(n−3)·HSIC₁ between two kernels given their `_kernel_terms` and tr(KL)."""
    return _hsic_unbiased(
        tr_kl,
        np.einsum("...n,...n->...", p["diag"], q["diag"]),
        p["total"],
        q["total"],
        np.einsum("...n,...n->...", p["rowsum"], q["rowsum"]),
        n,
    )


def _use_feature_space(n: int, dx: int, dy: int) -> bool:
    # ‖XᵀY‖² costs N·dx·dy; the Gram route costs N²·(dx + dy) to form K, L plus N² to contract.
    return dx * dy <= n * (dx + dy + 1)


def _trace_products(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """tr(K L) = ‖XᵀY‖_F² for x (..., N, dx), y (..., N, dy), by the cheaper route."""
    n, dx, dy = x.shape[-2], x.shape[-1], y.shape[-1]
    if _use_feature_space(n, dx, dy):
        c = np.matmul(np.swapaxes(x, -1, -2), y)
        return np.einsum("...ij,...ij->...", c, c)
    kx = np.matmul(x, np.swapaxes(x, -1, -2))
    ky = np.matmul(y, np.swapaxes(y, -1, -2))
    return np.einsum("...ij,...ij->...", kx, ky)


def _cka_ratio(h_xy, h_xx, h_yy):
    """h_xy / √(h_xx h_yy), nan where the denominator is not positive (a degenerate kernel)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        den = h_xx * h_yy
        return np.where(den > 0, h_xy / np.sqrt(np.where(den > 0, den, 1.0)), np.nan)


def _check_debiased(n: int, debiased: bool) -> None:
    if debiased and n < 4:
        raise ValueError(f"debiased CKA needs at least 4 samples (the estimator divides by n−3); got N = {n}")


def _check_weighted(weights, debiased: bool) -> None:
    if weights is not None and debiased:
        raise ValueError(
            "`weights` apply to biased CKA only: the unbiased HSIC is not a function of the weighted "
            "Gram matrix (pass debiased=False, or repeat the rows)"
        )


@_arguments_first
def linear_cka(
    x: Real[ArrayLike, "*batch n dx"],
    y: Real[ArrayLike, "*batch n dy"],
    *,
    debiased: bool = False,
    center: bool = True,
    nonfinite: NonFinite = "raise",
) -> Float[np.ndarray, "*batch"]:
    """Linear centred kernel alignment (Kornblith et al. 2019) between x (..., N, dx) and y (..., N, dy).

    ``CKA = ‖YᵀX‖_F² / (‖XᵀX‖_F ‖YᵀY‖_F)`` on sample-centred X, Y; equivalently the cosine between
    the centred Gram matrices XXᵀ and YYᵀ, so ``arccos(CKA)`` is a metric. In [0, 1]; invariant to
    orthogonal maps and isotropic scaling of either argument, not to general invertible maps.

    ``debiased=True`` replaces each HSIC in the ratio by the unbiased estimator of Song et al. (2012)
    (Gram matrices with zeroed diagonals; used for CKA by Nguyen, Raghu & Kornblith 2021, "Do wide
    and deep networks learn the same things?", ICLR); it removes the ≈ d/(N + d) floor of biased
    CKA between independent representations, and can be slightly negative. Needs N ≥ 4. The
    estimator is invariant to shifting the features, so ``center`` does not change it beyond rounding.

    The feature-space form (cost N·dx·dy) is used when it is cheaper than forming N×N Grams; the
    debiased terms are also evaluated without N×N matrices. Rows of x and y must be the same samples;
    batch shapes must be equal (use ``np.broadcast_to`` to compare one array with many).
    Returns ``nan`` where either centred Gram is zero (a constant representation: CKA undefined).
    """
    a, b = np.asarray(x), np.asarray(y)  # checked by `_arguments_first`: x and y agree but in the feature axis
    n = a.shape[-2]
    _check_debiased(n, debiased)
    batch_shape = a.shape[:-2]
    batch, x_items = _flat_items(a, 2)
    _, y_items = _flat_items(b, 2)

    # x and y have their own widths, so they are prepared separately, in lock-step chunks.
    def work(sl: slice) -> np.ndarray:
        common = dict(center=center, batch_shape=batch_shape, offset=sl.start, nonfinite=nonfinite)
        xc, _, bad_x = _prepare(x_items(sl), name="x", **common)
        yc, _, bad_y = _prepare(y_items(sl), name="y", **common)
        t_xy, t_xx, t_yy = _trace_products(xc, yc), _trace_products(xc, xc), _trace_products(yc, yc)
        if debiased:
            kx, ky = _kernel_terms(xc), _kernel_terms(yc)
            cka = _cka_ratio(_hsic_pair(kx, ky, t_xy, n), _hsic_pair(kx, kx, t_xx, n), _hsic_pair(ky, ky, t_yy, n))
        else:
            cka = _cka_ratio(t_xy, t_xx, t_yy)
        cka[bad_x | bad_y] = np.nan
        return cka

    out = _run_chunks(batch, 8 * n * (a.shape[-1] + b.shape[-1]), work)
    if not out:
        return np.zeros(batch_shape)
    return np.concatenate(out).reshape(batch_shape)


def _cka_matrix_chunk(xs: np.ndarray, debiased: bool) -> np.ndarray:
    """CKA between all layer pairs of a prepared chunk xs (b, L, N, d) → (b, L, L)."""
    b, n_layers, n, d = xs.shape
    t = np.empty((b, n_layers, n_layers))
    if _use_feature_space(n, d, d):
        # Stack layers along features once, then one product X_aᵀ[X_a … X_L] per layer a: only the
        # upper triangle of the (L·d)² cross-product matrix is formed.
        z = np.ascontiguousarray(np.moveaxis(xs, 1, 2)).reshape(b, n, n_layers * d)
        for i in range(n_layers):  # a loop over layers (L), not over batch elements
            c = np.matmul(np.swapaxes(xs[:, i], -1, -2), z[:, :, i * d :])  # (b, d, (L−i)·d)
            c = c.reshape(b, d, n_layers - i, d)
            t[:, i, i:] = np.einsum("bjmk,bjmk->bm", c, c)
            t[:, i:, i] = t[:, i, i:]
    else:
        k = np.matmul(xs, np.swapaxes(xs, -1, -2)).reshape(b, n_layers, n * n)
        t = np.matmul(k, np.swapaxes(k, -1, -2))
    if debiased:
        terms = _kernel_terms(xs)  # each (b, L, ...)
        h = _hsic_unbiased(
            t,
            np.matmul(terms["diag"], np.swapaxes(terms["diag"], -1, -2)),
            terms["total"][:, :, None],
            terms["total"][:, None, :],
            np.matmul(terms["rowsum"], np.swapaxes(terms["rowsum"], -1, -2)),
            n,
        )
    else:
        h = t
    diag = np.diagonal(h, axis1=-2, axis2=-1)
    cka = _cka_ratio(h, diag[:, :, None], diag[:, None, :])
    # The diagonal is 1 by definition wherever it is defined; don't let rounding say otherwise.
    idx = np.arange(n_layers)
    cka[:, idx, idx] = np.where(diag > 0, 1.0, np.nan)
    return cka


@_arguments_first
def cka_matrix(
    xs: Real[ArrayLike, "*batch layer n d"],
    *,
    debiased: bool = False,
    center: bool = True,
    nonfinite: NonFinite = "raise",
    weights: Real[ArrayLike, "*#batch n"] | None = None,
) -> Float[np.ndarray, "*batch layer layer"]:
    """Linear CKA between every pair of layers: xs (..., L, N, d) → (..., L, L).

    Entry (a, b) is :func:`linear_cka` ``(xs[..., a, :, :], xs[..., b, :, :])`` (Kornblith et al. 2019;
    ``debiased`` as there). Each centred layer is prepared once and the cross products ``X_aᵀX_b``
    are formed only for a ≤ b (or, when N < d, the N×N Grams once per layer), so the cost is about
    L(L+1)/2 products of N×d matrices. Symmetric, with ones on the diagonal; rows and columns of a
    degenerate (constant) layer are ``nan``. ``weights`` (..., N): row multiplicities shared by all
    layers, as in :func:`rank_measures` (biased CKA only).
    """
    return _layer_cka(np.asarray(xs), _cka_matrix_chunk, debiased, center, nonfinite, weights)


def _layer_cka(
    a: np.ndarray,
    chunk: Callable[[np.ndarray, bool], np.ndarray],
    debiased: bool,
    center: bool,
    nonfinite: NonFinite,
    weights: Real[ArrayLike, "*#batch n"] | None,
) -> np.ndarray:
    """CKA between the layers of `a` (..., L, N, d) as `chunk` (a prepared chunk (b, L, N, d), debiased)
    computes it, with the checks and preparation (centring, weights, non-finite rows) of :func:`linear_cka`:
    what `cka_matrix` and `kernel_drift` share."""
    _check_debiased(a.shape[-2], debiased)
    _check_weighted(weights, debiased)
    return _map_batched(
        lambda x, scale: {"c": chunk(x, debiased)},
        a,
        name="xs",
        center=center,
        core_ndim=3,
        nonfinite=nonfinite,
        weights=weights,
    )["c"]


def _adjacent_cka_chunk(xs: np.ndarray, debiased: bool) -> np.ndarray:
    """CKA(H_ℓ, H_ℓ₊₁) for a prepared chunk xs (b, L, N, d) → (b, L − 1)."""
    n, d = xs.shape[-2:]
    if _use_feature_space(n, d, d):
        t_self = _trace_products(xs, xs)
        t_next = _trace_products(xs[:, :-1], xs[:, 1:])
    else:
        k = np.matmul(xs, np.swapaxes(xs, -1, -2))
        t_self = np.einsum("blij,blij->bl", k, k)
        t_next = np.einsum("blij,blij->bl", k[:, :-1], k[:, 1:])
    if debiased:
        terms = _kernel_terms(xs)
        diag, rowsum, total = terms["diag"], terms["rowsum"], terms["total"]
        h_self = _hsic_unbiased(
            t_self, np.einsum("bln,bln->bl", diag, diag), total, total, np.einsum("bln,bln->bl", rowsum, rowsum), n
        )
        h_next = _hsic_unbiased(
            t_next,
            np.einsum("bln,bln->bl", diag[:, :-1], diag[:, 1:]),
            total[:, :-1],
            total[:, 1:],
            np.einsum("bln,bln->bl", rowsum[:, :-1], rowsum[:, 1:]),
            n,
        )
    else:
        h_self, h_next = t_self, t_next
    return _cka_ratio(h_next, h_self[:, :-1], h_self[:, 1:])


@_arguments_first
def kernel_drift(
    xs: Real[ArrayLike, "*batch layer n d"],
    *,
    metric: Literal["1-cka", "angle"] = "1-cka",
    debiased: bool = False,
    center: bool = True,
    nonfinite: NonFinite = "raise",
    weights: Real[ArrayLike, "*#batch n"] | None = None,
) -> Float[np.ndarray, "*batch transition"]:
    """Inter-layer kernel drift: xs (..., L, N, d) → (..., L − 1), one value per transition ℓ → ℓ+1.

    ``metric="1-cka"``: ``1 − CKA(H_ℓ, H_ℓ₊₁)`` (the measure of the seed paper; note that the
    Frobenius distance between unit-norm centred Grams is ``√(2(1 − CKA))``, the same information).
    ``metric="angle"``: ``θ_ℓ = arccos CKA(H_ℓ, H_ℓ₊₁)`` ∈ [0, π/2], the angle between centred Gram
    matrices, which is a metric on kernels (so drifts along a path obey the triangle inequality).
    With ``debiased=True`` CKA can be slightly negative (θ up to π) and θ is no longer a metric.
    CKA is linear CKA (Kornblith et al. 2019; ``debiased`` and ``center`` as in :func:`linear_cka`),
    computed only for adjacent pairs: 2L − 1 products of N×d matrices. ``nan`` where either layer is
    constant. Rows must be the same probe samples for every layer. ``weights`` (..., N): row
    multiplicities shared by all layers, as in :func:`rank_measures` (biased CKA only).
    """
    a = np.asarray(xs)
    if a.shape[-3] < 2:
        raise ValueError(f"kernel drift needs at least 2 layers along axis -3; got shape {a.shape}")
    cka = _layer_cka(a, _adjacent_cka_chunk, debiased, center, nonfinite, weights)
    if metric == "angle":
        with np.errstate(invalid="ignore"):
            return np.arccos(np.clip(cka, -1.0, 1.0))
    return 1.0 - cka
