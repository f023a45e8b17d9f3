"""Attention observables: the entropy, the log-partition function and the mean distance of each query's attention.

Each takes the attention **scores** of one head, ``s`` of shape ``(..., T_query, T_key)``: the
pre-softmax logits ``s_tk = q_t·k_k/√d_head``, with the keys a query may not attend to (a causal or
window mask, padding) at ``-inf``. Leading axes (layer, head, sample, ...) are a batch. Each returns
the mean over queries, float64 of shape ``(...)``.

**The Boltzmann reading.** Query t's attention ``p_tk = exp(s_tk) / Z_t`` with
``Z_t = Σ_k exp(s_tk)`` is the Boltzmann distribution over keys at temperature 1 with energies
``E_tk = −s_tk`` (a masked key has ``E = +∞``: probability 0). ``Z_t`` is its partition function,
``H_t = −Σ_k p_tk ln p_tk`` its entropy, and ``ln Z_t = ⟨s_t⟩_p + H_t`` (``F = U − TS`` with
Helmholtz free energy ``F_t = −ln Z_t``, internal energy ``U_t = −⟨s_t⟩_p`` and ``S_t = H_t``).

Numerics: float64, the row maximum subtracted before ``exp`` (so ``z = s − max s ≤ 0`` and
``1 ≤ Σ exp z ≤ T_key``: nothing overflows), ``0·ln 0 = 0``.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import ArrayLike, Bool, Float, Real

from ._batching import _flat_items, _run_chunks
from ._checks import NonFinite, _arguments_first


def _per_query(s: np.ndarray, measure: str) -> tuple[np.ndarray, np.ndarray]:
    """`measure` of each query row of finite-or-−inf float64 scores s (b, Tq, Tk), and the mask
    (b, Tq) of rows with no allowed key (their values are meaningless)."""
    top = s.max(axis=-1, keepdims=True)
    empty = top[..., 0] == -np.inf
    top = np.where(empty[..., None], 0.0, top)
    with np.errstate(over="ignore"):  # a gap beyond the float range: z = −inf, and p = 0 there as it should be
        z = s - top  # ≤ 0, −inf at disallowed keys, 0 at the row's maximum
    e = np.exp(z)
    zs = np.where(empty, 1.0, e.sum(axis=-1))  # Z·exp(−max s) ∈ [1, Tk] for a row with an allowed key
    if measure == "free_energy":
        return top[..., 0] + np.log(zs), empty
    if measure == "entropy":
        # H = ln Z − ⟨s⟩ = ln zs − Σ_k p_k z_k: both terms ≥ 0 (zs ≥ 1, z ≤ 0), so H ≥ 0 in floating point too
        ez = e * np.where(e > 0, z, 0.0)  # 0·ln 0 = 0: keys with p = 0 (masked or underflowed) add nothing
        return np.log(zs) - ez.sum(axis=-1) / zs, empty
    tq, tk = s.shape[-2:]
    gap = np.abs(np.arange(tk)[None, :] - np.arange(tq)[:, None]).astype(np.float64)  # |k − t|
    return (e * gap).sum(axis=-1) / zs, empty


def _mean_over_queries(
    s: np.ndarray, queries: np.ndarray | None, measure: str, nonfinite: NonFinite
) -> Float[np.ndarray, "*batch"]:
    """The mean over (selected) queries of `measure`, over chunks of the batch; arguments checked."""
    batch_shape = s.shape[:-2]
    batch, items = _flat_items(s, 2)
    selected = None if queries is None else _flat_items(np.broadcast_to(queries, s.shape[:-1]), 1)[1]

    def work(sl: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = np.array(items(sl), dtype=np.float64)
        bad = (np.isnan(x) | (x == np.inf)).any(axis=(-2, -1))
        x[bad] = 0.0  # measured as uniform attention, then reported as nan (or raised on below)
        val, empty = _per_query(x, measure)
        sel = np.ones(x.shape[:-1], dtype=bool) if selected is None else selected(sl)
        with np.errstate(invalid="ignore"):  # no query selected: 0/0 = nan
            mean = np.where(sel, val, 0.0).sum(axis=-1) / sel.sum(axis=-1)
        mean[bad] = np.nan
        return mean, bad, empty & sel

    parts = _run_chunks(batch, 8 * int(np.prod(s.shape[-2:])), work)
    if not parts:
        return np.zeros(batch_shape)
    mean, bad, empty = (np.concatenate(p) for p in zip(*parts, strict=True))

    def where(flat: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(flat, batch_shape)) if batch_shape else ()

    if bad.any() and nonfinite == "raise":
        raise ValueError(
            f"`s` contains nan or +inf in {int(bad.sum())} of {batch} score matrices, first in the item at batch "
            f"index {where(int(np.flatnonzero(bad)[0]))}; attention scores may be -inf (a masked key) but not nan "
            f"or +inf (did training diverge?). Pass nonfinite='nan' to get nan for such items instead."
        )
    if empty.any():
        item, query = np.unravel_index(int(np.flatnonzero(empty)[0]), empty.shape)
        raise ValueError(
            f"`s` has {int(empty.sum())} query row(s) with every key at -inf (no allowed key: the softmax is 0/0), "
            f"first at batch index {where(int(item))}, query {int(query)}. Every query measured needs at least "
            f"one allowed key; leave such queries (padding) out with `queries`."
        )
    return mean.reshape(batch_shape)


@_arguments_first
def attention_entropy(
    s: Real[ArrayLike, "*batch tq tk"],
    *,
    queries: Bool[ArrayLike, "*#batch tq"] | None = None,
    nonfinite: NonFinite = "raise",
) -> Float[np.ndarray, "*batch"]:
    """Mean over queries of the entropy of each query's attention, in nats; s (..., Tq, Tk) → (...).

    ``p_tk = softmax_k(s_tk)``,  ``H_t = −Σ_k p_tk ln p_tk``  (``0·ln 0 = 0``: keys at ``-inf`` add
    nothing),  result ``= mean_t H_t``. The entropy of the Boltzmann distribution over keys (module
    docstring). Bounds: ``0 ≤ H_t ≤ ln n_t`` with n_t the number of allowed (finite-score) keys of
    query t; 0 for attention on one key, ``ln n_t`` for uniform attention over the allowed keys
    (all-zero scores: exactly ``ln Tk``). ``exp(H_t)`` is the effective number of keys attended to.

    ``queries`` (boolean, broadcast to ``s.shape[:-1]``) averages over the selected queries only
    (e.g. the [MASK] positions); the others may hold anything finite or -inf, rows of -inf included.
    No query selected: nan. A measured query with every key at -inf is an error; so are nan and +inf
    scores, unless ``nonfinite="nan"``, which gives nan for each (Tq, Tk) matrix that holds one.
    """
    return _mean_over_queries(np.asarray(s), _mask(queries), "entropy", nonfinite)


@_arguments_first
def attention_free_energy(
    s: Real[ArrayLike, "*batch tq tk"],
    *,
    queries: Bool[ArrayLike, "*#batch tq"] | None = None,
    nonfinite: NonFinite = "raise",
) -> Float[np.ndarray, "*batch"]:
    """Mean over queries of the log-partition function ``ln Z_t = ln Σ_k exp(s_tk)``; s (..., Tq, Tk) → (...).

    **Sign convention:** this returns ``ln Z``, which is **minus** the Helmholtz free energy
    ``F_t = −T ln Z_t`` of the Boltzmann distribution over keys at temperature ``T = 1`` with
    energies ``E_tk = −s_tk`` (module docstring). Computed stably as
    ``m_t + ln Σ_k exp(s_tk − m_t)`` with ``m_t = max_k s_tk``. It equals ``⟨s_t⟩_p + H_t``
    (mean score under the attention plus its entropy) and is the only one of the three observables
    that is not invariant to adding a constant to a query's scores: it moves by that constant.
    Bounds: ``m_t ≤ ln Z_t ≤ m_t + ln n_t`` (n_t allowed keys): ``m_t`` for attention on one key
    (the other keys at -inf), ``m_t + ln n_t`` for equal allowed scores (all-zero scores:
    exactly ``ln Tk``).

    ``queries``, ``nonfinite`` and the errors: as in :func:`attention_entropy`.
    """
    return _mean_over_queries(np.asarray(s), _mask(queries), "free_energy", nonfinite)


@_arguments_first
def attention_distance(
    s: Real[ArrayLike, "*batch tq tk"],
    *,
    queries: Bool[ArrayLike, "*#batch tq"] | None = None,
    nonfinite: NonFinite = "raise",
) -> Float[np.ndarray, "*batch"]:
    """Mean attention distance: mean over queries t of ``D_t = Σ_k p_tk |k − t|``; s (..., T, T) → (...).

    Positions are the indices along the last two axes: query t and key k sit at positions t and k
    of one sequence, so the scores must be square (``Tq == Tk``, self-attention). ``p_tk`` is the
    softmax over keys (keys at -inf have ``p = 0``). The expected distance, in positions, from a
    query to the keys it attends to. Bounds: ``0 ≤ D_t ≤ max |k − t|`` over the allowed keys (≤ r
    under a window mask of radius r, ≤ T − 1 always); 0 for attention on the query's own position.
    Uniform attention over all T keys (all-zero scores) gives ``mean_t D_t = (T² − 1)/(3T)``;
    uniform causal attention (keys k ≤ t) gives ``(T − 1)/4``.

    ``queries``, ``nonfinite`` and the errors: as in :func:`attention_entropy`.
    """
    a = np.asarray(s)
    if a.shape[-2] != a.shape[-1]:
        raise ValueError(
            f"attention_distance needs square scores, T_query == T_key (query t and key k at positions t and k of "
            f"one sequence, distance |k − t|); got s of shape {a.shape}"
        )
    return _mean_over_queries(a, _mask(queries), "distance", nonfinite)


def _mask(queries: object) -> np.ndarray | None:
    return None if queries is None else np.asarray(queries, dtype=bool)
