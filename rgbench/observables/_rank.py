"""Spectra and rank measures: singular values, effective rank, participation ratio, stable and numerical rank.

All from one batched symmetric eigensolve of the smaller Gram matrix per item (`_gram_eigenvalues`).
"""

from __future__ import annotations

import numpy as np
from jaxtyping import ArrayLike, Bool, Float, Real

from ._batching import _EPS, _map_batched
from ._checks import NonFinite, _arguments_first


def _gram_eigenvalues(x: np.ndarray) -> np.ndarray:
    """Eigenvalues λ = σ² of the smaller Gram of x (..., N, d), descending, noise set to 0."""
    n, d = x.shape[-2:]
    xt = np.swapaxes(x, -1, -2)
    gram = np.matmul(xt, x) if d <= n else np.matmul(x, xt)
    lam = np.linalg.eigvalsh(gram)[..., ::-1]
    tol = np.maximum(lam[..., :1], 0.0) * (max(n, d) * _EPS)
    return np.ascontiguousarray(np.where(lam > tol, lam, 0.0))


def _rank_measures_from_eigenvalues(lam: np.ndarray) -> dict[str, np.ndarray]:
    """erank, PR and stable rank from descending Gram eigenvalues; 0 for an all-zero spectrum."""
    lam_max = lam[..., 0]
    nonzero = lam_max > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        r = lam / lam_max[..., None]  # λ/λ_max ∈ [0, 1]: no overflow in the squares below
        r = np.where(nonzero[..., None], r, 0.0)
        sigma = np.sqrt(r)
        p = sigma / sigma.sum(axis=-1, keepdims=True)
        plogp = np.where(p > 0, p * np.log(p), 0.0)  # 0·ln 0 = 0
        erank = np.exp(-plogp.sum(axis=-1))
        r_sum = r.sum(axis=-1)
        pr = r_sum**2 / (r**2).sum(axis=-1)
    return {
        "effective_rank": np.where(nonzero, erank, 0.0),
        "participation_ratio": np.where(nonzero, pr, 0.0),
        "stable_rank": np.where(nonzero, r_sum, 0.0),
    }


@_arguments_first
def singular_values(
    x: Real[ArrayLike, "*batch n d"], *, center: bool = True, nonfinite: NonFinite = "raise"
) -> Float[np.ndarray, "*batch k"]:
    """Singular values of each (N, d) matrix, descending, float64; k = min(N, d).

    Computed as σ = √λ from ``eigvalsh`` of the smaller Gram matrix (``XᵀX`` or ``XXᵀ``) of the
    (by default sample-centred) matrix. Gram eigenvalues below ``λ_max·max(N, d)·ε`` are rounding
    noise and are set to 0, so singular values below ≈ ``√(max(N, d)·ε)·σ_max`` come back as 0
    (use ``np.linalg.svd`` if you need them). With ``center=True`` at most ``min(N − 1, d)`` are
    non-zero.
    """
    a = np.asarray(x)

    def fn(xc, scale):
        return {"s": np.sqrt(_gram_eigenvalues(xc)) * scale[..., None]}

    return _map_batched(fn, a, name="x", center=center, core_ndim=2, nonfinite=nonfinite)["s"]


@_arguments_first
def rank_measures(
    x: Real[ArrayLike, "*batch n d"],
    *,
    center: bool = True,
    nonfinite: NonFinite = "raise",
    rows: Bool[ArrayLike, "*#batch n"] | None = None,
    weights: Real[ArrayLike, "*#batch n"] | None = None,
) -> dict[str, Float[np.ndarray, "*batch"]]:
    """Effective rank, participation ratio and stable rank from ONE eigendecomposition per matrix.

    Returns ``{"effective_rank": ..., "participation_ratio": ..., "stable_rank": ...}``, each of
    shape ``x.shape[:-2]``; the formulas are those of :func:`effective_rank`,
    :func:`participation_ratio` and :func:`stable_rank` (all three are 0 for an all-zero matrix,
    e.g. a constant layer after centring). Use this in measurement code instead of three calls.

    ``rows`` (boolean, broadcast to ``x.shape[:-1]``) measures each matrix on its selected rows
    only — centred on their own mean, as if the others were not there — so matrices with different
    numbers of rows (the [MASK] and the token rows of each position) run as one batch. A matrix
    with fewer than 2 selected rows has no centred spectrum: nan.

    ``weights`` (non-negative, broadcast to ``x.shape[:-1]``) are row multiplicities: the matrix
    measured holds row i ``weights[i]`` times (centred on the weighted mean). A representation that
    takes few distinct values — a context-free network's stream at a position is one of V + 1
    rows — is measured from its distinct rows and their counts, equal up to rounding to measuring
    every sample. Rows of weight 0 do not count (they may hold anything); total weight < 2: nan.
    """
    return _rank_measures(np.asarray(x), center=center, nonfinite=nonfinite, rows=rows, weights=weights)


def _rank_measures(
    a: np.ndarray,
    *,
    center: bool,
    nonfinite: NonFinite,
    rows: Bool[ArrayLike, "*#batch n"] | None = None,
    weights: Real[ArrayLike, "*#batch n"] | None = None,
) -> dict[str, Float[np.ndarray, "*batch"]]:
    """:func:`rank_measures` of arguments it has checked: what it and the single measures share."""

    def fn(xc, scale):
        return _rank_measures_from_eigenvalues(_gram_eigenvalues(xc))

    return _map_batched(fn, a, name="x", center=center, core_ndim=2, nonfinite=nonfinite, rows=rows, weights=weights)


@_arguments_first
def effective_rank(
    x: Real[ArrayLike, "*batch n d"], *, center: bool = True, nonfinite: NonFinite = "raise"
) -> Float[np.ndarray, "*batch"]:
    """Effective rank (Roy & Vetterli 2007), **σ-based**: exp of the entropy of normalised singular values.

    ``p_k = σ_k / Σ_j σ_j``,  ``erank = exp(−Σ_k p_k ln p_k)``  with ``0·ln 0 = 0``.

    Uses singular values σ, not eigenvalues λ = σ² (the λ-based variant gives a different number).
    Ranges over ``[1, rank]`` for a non-zero matrix; an all-zero matrix (e.g. a constant layer after
    centring) has no spectrum to normalise and is defined to have effective rank **0**.
    k equal non-zero singular values give exactly k.
    """
    return _rank_measures(np.asarray(x), center=center, nonfinite=nonfinite)["effective_rank"]


@_arguments_first
def participation_ratio(
    x: Real[ArrayLike, "*batch n d"], *, center: bool = True, nonfinite: NonFinite = "raise"
) -> Float[np.ndarray, "*batch"]:
    """Participation ratio (Gao et al. 2017): ``PR = (Σ_k λ_k)² / Σ_k λ_k²`` with ``λ_k = σ_k²``.

    The eigenvalues λ are those of the (centred) covariance up to a factor 1/N, which cancels.
    0 for an all-zero matrix.
    """
    return _rank_measures(np.asarray(x), center=center, nonfinite=nonfinite)["participation_ratio"]


@_arguments_first
def stable_rank(
    x: Real[ArrayLike, "*batch n d"], *, center: bool = True, nonfinite: NonFinite = "raise"
) -> Float[np.ndarray, "*batch"]:
    """Stable rank (Rudelson & Vershynin 2007): ``‖X‖_F² / ‖X‖_2² = Σ_k σ_k² / σ_max²``.

    0 for an all-zero matrix.
    """
    return _rank_measures(np.asarray(x), center=center, nonfinite=nonfinite)["stable_rank"]


@_arguments_first
def numerical_rank(
    x: Real[ArrayLike, "*batch n d"], *, rtol: float = 1e-6, center: bool = True, nonfinite: NonFinite = "raise"
) -> Float[np.ndarray, "*batch"]:
    """Numerical rank: ``#{k : σ_k > rtol·σ_max}`` (0 for an all-zero matrix), returned as float64.

    ``rtol`` must lie in (0, 1) and above the resolution of the Gram-eigenvalue method,
    ``√(max(N, d)·ε)`` (≈ 3.4e-7 at max(N, d) = 512); below it use ``np.linalg.matrix_rank``.
    """
    a = np.asarray(x)
    floor = float(np.sqrt(max(a.shape[-2:]) * _EPS))
    if not (0 < rtol < 1):
        raise ValueError(f"`rtol` must lie in (0, 1); got {rtol}")
    if rtol <= floor:
        raise ValueError(
            f"`rtol`={rtol:g} is below what eigenvalues of the Gram matrix resolve for this shape "
            f"(√(max(N, d)·ε) = {floor:.2g}); use rtol > {floor:.2g} or np.linalg.matrix_rank"
        )

    def fn(xc, scale):
        lam = _gram_eigenvalues(xc)
        return {"r": np.count_nonzero(lam > (rtol * rtol) * lam[..., :1], axis=-1).astype(np.float64)}

    return _map_batched(fn, a, name="x", center=center, core_ndim=2, nonfinite=nonfinite)["r"]
