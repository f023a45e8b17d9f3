"""A stationary first-order Markov chain built from its transition matrix P and stationary law π."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, Integer, PRNGKeyArray

from . import _floors
from ._numerics import sort_eigenvalues
from ._runtime import AbstractInput

__all__ = ["MarkovInput", "sample_markov", "sample_sticky"]


def sample_markov(
    key: PRNGKeyArray, n: int, length: int, transition: Float[ArrayLike, "v v"], pi: Float[ArrayLike, " v"]
) -> Int[Array, "n length"]:
    """Stationary Markov sequences by inverse-CDF draws: x_0 ~ π, x_t ~ P[x_{t−1}], one lax.scan over t."""
    cdf = jnp.cumsum(jnp.asarray(transition, jnp.float32), axis=1)
    pi_cdf = jnp.cumsum(jnp.asarray(pi, jnp.float32))
    V = cdf.shape[0]
    u = jax.random.uniform(key, (length, n), dtype=jnp.float32)
    x0 = jnp.minimum(jnp.sum(u[0][:, None] >= pi_cdf[None, :], axis=1), V - 1).astype(jnp.int32)

    def step(x, u_t):
        nxt = jnp.minimum(jnp.sum(u_t[:, None] >= cdf[x], axis=1), V - 1).astype(jnp.int32)
        return nxt, nxt

    _, rest = jax.lax.scan(step, x0, u[1:])
    return jnp.concatenate([x0[None, :], rest], axis=0).T


def sample_sticky(
    key: PRNGKeyArray, n: int, length: int, alpha: Float[ArrayLike, ""] | Float[ArrayLike, " n"], pi: Float[ArrayLike, " v"]
) -> Int[Array, "n length"]:
    """Sticky sequences P = αI + (1−α)𝟙πᵀ with α ∈ [0, 1], fully parallel (no scan).

    Each step keeps the previous token with probability α, else draws afresh from π, so x_t is the
    fresh draw at the last refresh time ≤ t (a cumulative max over refresh indices). ``alpha`` is
    a scalar or an (n,) vector (one α per sequence, as for beta_sticky).
    """
    # One uniform per token: u < α keeps the previous token; otherwise (u − α)/(1 − α) is a fresh
    # uniform, mapped to a draw from π by inverse CDF.
    alpha = jnp.broadcast_to(jnp.asarray(alpha, jnp.float32).reshape(-1, 1), (n, 1))
    pi_cdf = jnp.cumsum(jnp.asarray(pi, jnp.float32))
    V = pi_cdf.shape[0]
    u = jax.random.uniform(key, (n, length), dtype=jnp.float32)
    refresh = (u >= alpha).at[:, 0].set(True)
    v = jnp.where(refresh, (u - alpha) / jnp.maximum(1.0 - alpha, 1e-30), u)
    v = v.at[:, 0].set(u[:, 0])
    fresh = jnp.minimum(jnp.sum(v[:, :, None] >= pi_cdf[None, None, :], axis=2), V - 1).astype(jnp.int32)
    t = jnp.arange(length, dtype=jnp.int32)[None, :]
    last = jax.lax.cummax(jnp.where(refresh, t, 0), axis=1)
    return jnp.take_along_axis(fresh, last, axis=1)


class MarkovInput(AbstractInput):
    """Stationary Markov chain on V symbols with transition matrix P and stationary law π.

    Exact facts: eigenvalues of P (via the symmetrised D^½ P D^−½ when P is reversible),
    C(r) = Σ_a π_a (P^r)_aa − Σ_a π_a², the Bayes floor by forward–backward and the tokenwise floor.
    """

    transition: np.ndarray
    pi: np.ndarray

    def __init__(self, transition: Float[ArrayLike, "v v"], pi: Float[ArrayLike, " v"], *, length: int, scheme: str, rate: float):
        P = np.array(transition, dtype=np.float64)
        p = np.array(pi, dtype=np.float64)
        V = P.shape[0]
        if P.shape != (V, V) or p.shape != (V,):
            raise ValueError(f"transition must be (V, V) and pi (V,); got {P.shape} and {p.shape}")
        if P.min() < -1e-12 or not np.allclose(P.sum(1), 1.0, atol=1e-10):
            raise ValueError(
                f"transition must be row-stochastic with non-negative entries; min entry {P.min():.3g}, "
                f"row sums in [{P.sum(1).min():.12g}, {P.sum(1).max():.12g}]"
            )
        if not np.allclose(p @ P, p, atol=1e-10):
            raise ValueError(f"pi is not stationary for the transition: max |πP − π| = {np.abs(p @ P - p).max():.3g}")
        P = np.clip(P, 0.0, None)
        P /= P.sum(1, keepdims=True)
        P.setflags(write=False)
        p.setflags(write=False)
        self.transition = P
        self.pi = p
        self.vocab = V
        self.length = length
        self.scheme = scheme
        self.rate = rate

    def sample(self, key: PRNGKeyArray, n: int) -> Int[Array, "n length"]:
        """``n`` stationary sequences (x_0 ~ π), int32 (n, T); jit with ``n`` static, vmappable over key."""
        return sample_markov(key, n, self.length, self.transition, self.pi)

    def stationary(self) -> np.ndarray:
        return np.array(self.pi)

    def is_reversible(self) -> bool:
        """Detailed balance π_i P_ij = π_j P_ji."""
        F = self.pi[:, None] * self.transition
        return bool(np.allclose(F, F.T, atol=1e-13))

    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of P, complex128 (V,), |λ| descending (λ₁ = 1)."""
        if self.is_reversible():
            s = np.sqrt(self.pi)
            S = s[:, None] * self.transition / s[None, :]
            ev = np.linalg.eigvalsh((S + S.T) / 2).astype(np.complex128)
        else:
            ev = np.linalg.eigvals(self.transition)
        return sort_eigenvalues(ev)

    def lag_joint(self, r: int) -> np.ndarray:
        """P(x_t = a, x_{t+r} = b) = π_a (P^r)_ab."""
        return self.pi[:, None] * np.linalg.matrix_power(self.transition, int(r))

    def autocorrelation(self) -> np.ndarray:
        """C(r) = Σ_a π_a (P^r)_aa − Σ_a π_a², r = 0 … T−1 (float64)."""
        out = np.empty(self.length)
        M = np.eye(self.vocab)
        base = float(self.pi @ self.pi)
        for r in range(self.length):
            out[r] = float(self.pi @ np.diag(M)) - base
            M = M @ self.transition
        return out

    def bayes_logprob(
        self, tokens: Integer[ArrayLike, "n length"], inputs: Integer[ArrayLike, "n length"]
    ) -> Float[np.ndarray, "n length"]:
        """ln P(x_t | inputs, t selected) for every position, exact by forward–backward (see ``_floors``)."""
        tokens, inputs, _ = _floors.as_numpy(tokens, inputs, False)
        marg, sel = _floors.emission_tables(self.scheme, self.rate, self.vocab)
        return _floors.posterior_logprob(self.transition[None], self.pi[None], np.zeros(1), marg, sel, tokens, inputs)

    def single_mask_loss(self) -> float:
        """2h(P) − h(P²): the exact Bayes loss of one isolated mask (see ``single_mask_loss``)."""
        return _floors.single_mask_loss(self.transition, self.pi)
