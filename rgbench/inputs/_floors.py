"""Exact loss floors for masked-token prediction on Markov (and mixtures of Markov) sources.

All computations are numpy float64.

Observation model (see ``Masking``). For the position t being scored the Bayes-optimal predictor
is q_t(j) = P(x_t = j | inputs, t selected); it factorises into a hidden-Markov posterior with
per-position emissions e_s(j) = P(o_s | x_s = j):

* at s ≠ t the *marginal* emission (selection is independent Bernoulli ρ):
  mask: e(MASK) = ρ, e(k) = (1−ρ)·1[k = j];
  bert: e(MASK) = 0.8ρ, e(k) = 0.1ρ/V + (1 − 0.9ρ)·1[k = j];
  single: visible tokens are exact, e(k) = 1[k = j];
* at s = t the *selection-conditioned* emission:
  mask, single: e(MASK) = 1; bert: e(MASK) = 0.8, e(k) = 0.1·1[k = j] + 0.1/V.

Forward–backward (Rabiner 1989, scaled) gives q_t ∝ (πP^… forward predictive)_t ⊙ e^sel_t ⊙ β_t,
with the forward/backward messages built from the marginal emissions of every other position.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import ArrayLike, Float
from scipy.special import logsumexp

__all__ = [
    "emission_tables",
    "entropy_rate",
    "expected_tokenwise_loss",
    "pooled_mean",
    "posterior_logprob",
    "single_mask_loss",
    "tokenwise_logloss",
]


def entropy_rate(P: np.ndarray, pi: np.ndarray) -> float:
    """h(Q) = −Σ_i π_i Σ_j Q_ij ln Q_ij (nats), with 0 ln 0 = 0."""
    P = np.asarray(P, dtype=np.float64)
    pi = np.asarray(pi, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0)), 0.0)
    return float(-(pi @ plogp.sum(axis=1)))


def single_mask_loss(P: Float[ArrayLike, "v v"], pi: Float[ArrayLike, " v"]) -> float:
    """Bayes cross-entropy of one isolated mask between two observed neighbours: 2h(P) − h(P²).

    p(x_t = j | x_{t−1} = i, x_{t+1} = k) = P_ij P_jk / (P²)_ik, so the expected loss is
    H(x_t | x_{t−1}, x_{t+1}) = H(x_t, x_{t+1} | x_{t−1}) − H(x_{t+1} | x_{t−1}) = 2h(P) − h(P²)
    for the stationary chain (h is the entropy rate −Σ π_i P_ij ln P_ij). V = 16 sticky, uniform π:
    1.6437 at ξ = 1.2, 0.2682 at ξ = 6.7.
    """
    P = np.asarray(P, dtype=np.float64)
    return 2.0 * entropy_rate(P, pi) - entropy_rate(P @ P, pi)


def emission_tables(scheme: str, rate: float, vocab: int) -> tuple[np.ndarray, np.ndarray]:
    """(marginal, selection-conditioned) emission tables E[o, j] = P(o | x = j), shape (V+1, V).

    Rows are indexed by the observed symbol o (V = [MASK]). The selection-conditioned table is a
    proper conditional distribution over o (columns sum to 1); the marginal one is correct up to
    factors constant in j, which cancel in every posterior.
    """
    V = vocab
    eye = np.eye(V)
    marg = np.zeros((V + 1, V))
    sel = np.zeros((V + 1, V))
    if scheme == "single":
        marg[:V] = eye
        marg[V] = 1.0  # a second [MASK] cannot occur; uninformative keeps stray data finite
        sel[V] = 1.0
    elif scheme == "mask":
        marg[:V] = (1.0 - rate) * eye
        marg[V] = rate
        sel[V] = 1.0
    elif scheme == "bert":
        marg[:V] = 0.1 * rate / V + (1.0 - 0.9 * rate) * eye
        marg[V] = 0.8 * rate
        sel[:V] = 0.1 / V + 0.1 * eye
        sel[V] = 0.8
    else:
        raise ValueError(f"unknown masking scheme {scheme!r} (allowed: single, mask, bert)")
    return marg, sel


def posterior_logprob(
    transitions: np.ndarray,
    initial: np.ndarray,
    log_weights: np.ndarray,
    marg: np.ndarray,
    sel: np.ndarray,
    tokens: np.ndarray,
    inputs: np.ndarray,
    chunk_elems: int = 1 << 21,
    sticky: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """ln q_t(x_t) for every (sequence, position), q_t = P(x_t | inputs, t selected).

    The source is a mixture of K Markov chains (K = 1 for a plain chain): ``transitions`` (K, V, V),
    ``initial`` (K, V) the law of x_0, ``log_weights`` (K,) prior log-weights. Per chain a scaled
    forward–backward pass; the mixture posterior weights each chain by its likelihood of the
    whole observation (with the selection-conditioned emission at t). Work is O(K·N·T·V²),
    chunked over sequences to bound memory. ``sticky = (alphas (K,), π)`` declares
    P_k = α_k I + (1−α_k)𝟙πᵀ and uses the O(V) products fP = αf + (1−α)(Σf)π,
    gPᵀ = αg + (1−α)(g·π)𝟙 instead of matrix products.
    """
    transitions = np.asarray(transitions, dtype=np.float64)
    initial = np.asarray(initial, dtype=np.float64)
    log_weights = np.asarray(log_weights, dtype=np.float64)
    tokens = np.asarray(tokens)
    inputs = np.asarray(inputs)
    K, V, _ = transitions.shape
    N, T = tokens.shape
    out = np.empty((N, T))
    step = max(1, chunk_elems // max(1, K * T * V))
    if sticky is None:
        PsT = np.swapaxes(transitions, 1, 2)

        def fwd(f):
            return f @ transitions

        def bwd(g):
            return g @ PsT
    else:
        al = np.asarray(sticky[0], dtype=np.float64)[:, None, None]
        pi = np.asarray(sticky[1], dtype=np.float64)

        def fwd(f):
            return al * f + (1.0 - al) * f.sum(-1, keepdims=True) * pi

        def bwd(g):
            return al * g + (1.0 - al) * (g @ pi)[..., None]

    for lo in range(0, N, step):
        hi = min(N, lo + step)
        out[lo:hi] = _posterior_chunk(fwd, bwd, K, initial, log_weights, marg, sel, tokens[lo:hi], inputs[lo:hi])
    return out


def _posterior_chunk(fwd, bwd, K, init, logw, marg, sel, tokens, inputs):
    V = init.shape[-1]
    n, T = tokens.shape
    Em = marg[inputs]  # (n, T, V)
    Es = sel[inputs]
    a = np.empty((T, K, n, V))  # forward predictive before emission t, normalised
    la = np.empty((T, K, n))  # its log scale
    cur = np.broadcast_to(init[:, None, :], (K, n, V)).copy()
    lcur = np.zeros((K, n))
    for t in range(T):
        a[t] = cur
        la[t] = lcur
        f = cur * Em[None, :, t, :]
        s = f.sum(-1)
        f /= s[..., None]
        lcur = lcur + np.log(s)
        cur = fwd(f)
    b = np.empty((T, K, n, V))  # backward message P(o_{t+1:} | x_t), normalised
    lb = np.empty((T, K, n))
    b[T - 1] = 1.0
    lb[T - 1] = 0.0
    for t in range(T - 2, -1, -1):
        g = bwd(Em[None, :, t + 1, :] * b[t + 1])
        s = g.sum(-1)
        b[t] = g / s[..., None]
        lb[t] = lb[t + 1] + np.log(s)
    num = a * Es.transpose(1, 0, 2)[:, None, :, :] * b  # (T, K, n, V)
    Z = num.sum(-1)  # (T, K, n)
    idx = tokens.T[:, None, :, None]  # (T, 1, n, 1)
    hit = np.take_along_axis(num, np.broadcast_to(idx, (T, K, n, 1)), axis=-1)[..., 0]  # (T, K, n)
    # Z = 0 where position t could not have been scored (a visible token under single/mask).
    with np.errstate(divide="ignore", invalid="ignore"):
        if K == 1:
            return (np.log(hit[:, 0]) - np.log(Z[:, 0])).T
        logZ = la + lb + np.log(Z) + logw[None, :, None]  # (T, K, n): ln P(obs, chain k)
        lognum = la + lb + np.log(hit) + logw[None, :, None]
        return (logsumexp(lognum, axis=1) - logsumexp(logZ, axis=1)).T


def tokenwise_logloss(pi: np.ndarray, scheme: str, tokens: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """−ln q(x_t | o_t) per position, q(j | o) ∝ π_j P(o | x = j, selected) (context-free Bayes)."""
    V = len(pi)
    _, sel = emission_tables(scheme, 0.5, V)
    q = sel * pi[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        logq = np.log(q) - np.log(q.sum(1, keepdims=True))
    return -logq[inputs, tokens]


def expected_tokenwise_loss(pi: np.ndarray, scheme: str) -> float:
    """Σ_j π_j Σ_o P(o | j, sel) (−ln q(j | o)): the tokenwise floor in expectation."""
    V = len(pi)
    _, sel = emission_tables(scheme, 0.5, V)
    joint = sel * pi[None, :]  # P(o, j | sel)
    post = joint / np.where(joint.sum(1, keepdims=True) > 0, joint.sum(1, keepdims=True), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, -joint * np.log(np.where(post > 0, post, 1.0)), 0.0)
    return float(terms.sum())


def pooled_mean(loss: np.ndarray, scored: np.ndarray) -> tuple[float, float]:
    """Mean of ``loss`` over all scored positions pooled over sequences, and its standard error.

    Positions within a sequence are dependent, sequences independent: the SE is that of the ratio
    estimator Σ_i S_i / Σ_i n_i (S_i, n_i: loss sum and count of sequence i), by the delta method,
    sqrt(Σ_i (S_i − m n_i)² / (N(N−1))) / mean(n_i). (nan, nan) when nothing is scored.
    """
    scored = np.asarray(scored, dtype=bool)
    loss = np.where(scored, np.asarray(loss, dtype=np.float64), 0.0)
    S = loss.sum(axis=1)
    n = scored.sum(axis=1).astype(np.float64)
    total = n.sum()
    if total == 0:
        return float("nan"), float("nan")
    m = S.sum() / total
    N = len(S)
    if N < 2:
        return float(m), float("nan")
    se = np.sqrt(np.sum((S - m * n) ** 2) / (N * (N - 1))) / n.mean()
    return float(m), float(se)


def as_numpy(tokens: ArrayLike, inputs: ArrayLike, scored: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tokens, inputs, scored) as numpy int64, int64 and bool arrays, whatever array type they came as."""
    return (
        np.asarray(tokens).astype(np.int64),
        np.asarray(inputs).astype(np.int64),
        np.asarray(scored).astype(bool),
    )
