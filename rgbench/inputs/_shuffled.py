"""Runtime of the shuffle control: a base input with each sequence's positions permuted."""

from __future__ import annotations

import jax
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, Integer, PRNGKeyArray

from ._numerics import eigenvalues_of_joint
from ._runtime import AbstractInput

__all__ = ["ShuffledInput"]


class ShuffledInput(AbstractInput):
    """A base input whose sequences are each permuted by an independent uniform permutation.

    The result is exchangeable: every pair of distinct positions has the same joint law, the
    average of the base's lag-d joints over the T(T−1)/2 position pairs,
    J̄ = 2/(T(T−1)) Σ_{d=1}^{T−1} (T−d) J_d. Hence C(0) is the base's and C(r) = Σ_a J̄_aa − Σπ_a²
    for every r ≥ 1; ``eigenvalues`` are those of the one-step transition D⁻¹J̄.

    No exact full-context floor: the posterior at a position depends on the other tokens only
    through their multiset, and evaluating it means summing the base likelihood over all orderings
    (T! terms, a permanent-like sum), so ``bayes_loss`` returns nan. The tokenwise floor depends
    only on π and the masking and is exact.
    """

    base: AbstractInput

    def __init__(self, base: AbstractInput):
        self.base = base
        self.vocab = base.vocab
        self.length = base.length
        self.scheme = base.scheme
        self.rate = base.rate

    def sample(self, key: PRNGKeyArray, n: int) -> Int[Array, "n length"]:
        """Base sequences, each permuted independently (jax.random.permutation, independent=True)."""
        k_base, k_perm = jax.random.split(key)
        return jax.random.permutation(k_perm, self.base.sample(k_base, n), axis=1, independent=True)

    def stationary(self) -> np.ndarray:
        return self.base.stationary()

    def _pair_joint(self) -> np.ndarray:
        T = self.length
        acc = np.zeros((self.vocab, self.vocab))
        for d in range(1, T):
            acc += (T - d) * self.base.lag_joint(d)
        return acc * 2.0 / (T * (T - 1))

    def lag_joint(self, r: int) -> np.ndarray:
        return np.diag(self.stationary()) if r == 0 else self._pair_joint()

    def eigenvalues(self) -> np.ndarray:
        return eigenvalues_of_joint(self._pair_joint(), self.stationary())

    def autocorrelation(self) -> np.ndarray:
        pi = self.stationary()
        base = float(pi @ pi)
        out = np.full(self.length, float(np.trace(self._pair_joint())) - base)
        out[0] = 1.0 - base
        return out

    def bayes_logprob(
        self, tokens: Integer[ArrayLike, "n length"], inputs: Integer[ArrayLike, "n length"]
    ) -> Float[np.ndarray, "n length"]:
        """All nan: no tractable exact full-context floor for a shuffled sequence (see class doc)."""
        return np.full(np.shape(tokens), np.nan)
