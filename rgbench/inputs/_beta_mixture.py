"""Runtime of the long-range control: sticky chains whose stickiness α ~ Beta(a, b) per sequence."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, Integer, PRNGKeyArray
from scipy.special import betaln, roots_jacobi

from . import _floors
from ._markov import sample_sticky
from ._numerics import eigenvalues_of_joint
from ._runtime import AbstractInput

__all__ = ["BetaStickyInput"]

MAX_NODES = 256


class BetaStickyInput(AbstractInput):
    """Mixture of sticky chains P_α = αI + (1−α)𝟙πᵀ, α ~ Beta(a, b) once per sequence.

    Not Markov and not ergodic within a sequence. C(r) = E[α^r](1 − Σπ²) with
    E[α^r] = B(a + r, b)/B(a, b) ~ r^(−b) (docs/science.md, "Long-range").
    ``eigenvalues`` are those of the one-step transition P(x_{t+1} | x_t) = ᾱI + (1−ᾱ)𝟙πᵀ,
    ᾱ = a/(a + b): {1, ᾱ (V − 1 times)}; ξ is read from it, though the decay is a power law.
    """

    pi: np.ndarray
    a: float = eqx.field(static=True)
    b: float = eqx.field(static=True)

    def __init__(self, pi: Float[ArrayLike, " v"], a: float, b: float, *, length: int, scheme: str, rate: float):
        p = np.array(pi, dtype=np.float64)
        p.setflags(write=False)
        self.pi = p
        self.a = float(a)
        self.b = float(b)
        self.vocab = len(p)
        self.length = length
        self.scheme = scheme
        self.rate = rate

    def sample(self, key: PRNGKeyArray, n: int) -> Int[Array, "n length"]:
        """Per sequence α ~ Beta(a, b), then a sticky chain with that α (parallel, no scan)."""
        k_alpha, k_seq = jax.random.split(key)
        # α = G_a/(G_a + G_b) = sigmoid(ln G_a − ln G_b), G ~ Gamma: exact Beta(a, b), stable in log
        # space for small shapes; one stacked loggamma call compiles in half the time of random.beta.
        lg = jax.random.loggamma(k_alpha, jnp.array([[self.a], [self.b]], jnp.float32), (2, n))
        alpha = jax.nn.sigmoid(lg[0] - lg[1])
        return sample_sticky(k_seq, n, self.length, alpha, self.pi)

    def stationary(self) -> np.ndarray:
        return np.array(self.pi)

    def moment(self, r: int) -> float:
        """E[α^r] = B(a + r, b) / B(a, b)."""
        return math.exp(betaln(self.a + r, self.b) - betaln(self.a, self.b))

    def lag_joint(self, r: int) -> np.ndarray:
        """P(x_t = a, x_{t+r} = b) = E[α^r](D − ππᵀ) + ππᵀ."""
        pp = np.outer(self.pi, self.pi)
        return self.moment(r) * (np.diag(self.pi) - pp) + pp

    def eigenvalues(self) -> np.ndarray:
        return eigenvalues_of_joint(self.lag_joint(1), self.pi)

    def autocorrelation(self) -> np.ndarray:
        """C(r) = (1 − Σπ_a²) B(a + r, b)/B(a, b), r = 0 … T−1."""
        var = 1.0 - float(self.pi @ self.pi)
        return np.array([var * self.moment(r) for r in range(self.length)])

    def quadrature(self) -> tuple[np.ndarray, np.ndarray]:
        """Gauss–Jacobi nodes α_k and normalised weights w_k for the Beta(a, b) prior.

        Every likelihood and posterior numerator of a sequence is a polynomial in α of degree
        ≤ T − 1 (one factor α δ + (1−α)π per transition), so K = ⌈T/2⌉ + 1 nodes integrate the
        posterior predictive exactly (Gauss rules are exact to degree 2K − 1). K is capped at 256:
        beyond T = 510 the floor is a (very accurate) quadrature approximation.
        """
        K = min(MAX_NODES, math.ceil(self.length / 2) + 1)
        x, w = roots_jacobi(K, self.b - 1.0, self.a - 1.0)  # weight (1−x)^(b−1) (1+x)^(a−1)
        return (x + 1.0) / 2.0, w / w.sum()

    def bayes_logprob(
        self, tokens: Integer[ArrayLike, "n length"], inputs: Integer[ArrayLike, "n length"]
    ) -> Float[np.ndarray, "n length"]:
        """ln P(x_t | inputs, t selected), α integrated against its posterior given the whole sequence.

        Forward–backward per Gauss–Jacobi node (exact, see ``quadrature``), mixed by each node's
        likelihood of the corrupted sequence.
        """
        tokens, inputs, _ = _floors.as_numpy(tokens, inputs, False)
        nodes, w = self.quadrature()
        V = self.vocab
        Ps = nodes[:, None, None] * np.eye(V)[None] + (1.0 - nodes)[:, None, None] * self.pi[None, None, :]
        marg, sel = _floors.emission_tables(self.scheme, self.rate, V)
        init = np.broadcast_to(self.pi, (len(nodes), V))
        return _floors.posterior_logprob(Ps, init, np.log(w), marg, sel, tokens, inputs, sticky=(nodes, self.pi))
