"""The runtime half of the input contract: `AbstractInput`, an ``eqx.Module`` (see ``_base``)."""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, Integer, PRNGKeyArray

from . import _floors
from ._numerics import xi_from_eigenvalues

__all__ = ["AbstractInput"]


class AbstractInput(eqx.Module):
    """Runtime input distribution: on-device sampling and corruption, exact spectral facts and floors.

    The contract of a concrete (final) subclass: the abstract methods ``sample``, ``eigenvalues``,
    ``stationary``, ``lag_joint``, ``autocorrelation`` and ``bayes_logprob`` (a class without one
    cannot be instantiated), and an ``__init__`` that sets the four fields declared here (``vocab``,
    ``length``, ``scheme``, ``rate``) besides its own. Corruption (from the masking fields),
    ``bayes_loss`` pooling, ``xi``, ``count_variance_factor`` and the tokenwise floor are derived
    here from those methods.
    ``MarkovInput`` serves every family that is a first-order chain, so such a family only
    constructs its P.
    """

    vocab: int = eqx.field(static=True)
    length: int = eqx.field(static=True)
    scheme: str = eqx.field(static=True)
    rate: float = eqx.field(static=True)

    # Value identity, so a bound method (``jax.jit(inp.sample, static_argnums=1)``) can be a jit
    # cache key although the module holds numpy arrays; equal configs share compiled code.
    def _identity(self):
        leaves, treedef = jax.tree_util.tree_flatten(self)
        keys = []
        for leaf in leaves:
            if isinstance(leaf, (np.ndarray, jax.Array)):
                arr = np.asarray(leaf)
                keys.append((arr.shape, arr.dtype.str, arr.tobytes()))
            else:
                keys.append(leaf)
        return treedef, tuple(keys)

    def __hash__(self) -> int:
        return hash(self._identity())

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and self._identity() == other._identity()

    @property
    def mask_id(self) -> int:
        """The [MASK] symbol: V (inputs use 0 … V)."""
        return self.vocab

    # --- sampling -------------------------------------------------------------------------
    @abc.abstractmethod
    def sample(self, key: PRNGKeyArray, n: int) -> Int[Array, "n length"]:
        """``n`` independent sequences, int32 tokens in 0 … V−1 (jit with ``n`` static; vmappable over key)."""

    def corrupt(
        self, key: PRNGKeyArray, tokens: Int[Array, "n length"]
    ) -> tuple[Int[Array, "n length"], Bool[Array, "n length"]]:
        """Apply the masking: returns (inputs with [MASK] = V, scored positions).

        single: one interior position per sequence (uniform over 1 … T−2) becomes [MASK].
        mask: each position independently scored with probability ρ and replaced by [MASK].
        bert: each position independently scored with probability ρ; a scored position becomes
        [MASK] with probability 0.8, a uniform random token (0 … V−1, possibly itself) with 0.1,
        and is kept with 0.1 (Devlin et al. 2019). ``scored`` marks every selected position.
        Bernoulli selection can leave a sequence with no scored position: pool losses over the
        batch, Σ loss·scored / max(Σ scored, 1) (see ``Masking``). jit/vmap friendly.
        """
        tokens = jnp.asarray(tokens, jnp.int32)
        n, t = tokens.shape
        k_sel, k_kind, k_rand = jax.random.split(key, 3)
        if self.scheme == "single":
            pos = jax.random.randint(k_sel, (n, 1), 1, t - 1)
            scored = jnp.arange(t)[None, :] == pos
            return jnp.where(scored, self.vocab, tokens), scored
        scored = jax.random.bernoulli(k_sel, self.rate, (n, t))
        if self.scheme == "mask":
            return jnp.where(scored, self.vocab, tokens), scored
        u = jax.random.uniform(k_kind, (n, t))
        rand = jax.random.randint(k_rand, (n, t), 0, self.vocab, dtype=jnp.int32)
        replaced = jnp.where(u < 0.8, self.vocab, jnp.where(u < 0.9, rand, tokens))
        return jnp.where(scored, replaced, tokens).astype(jnp.int32), scored

    # --- exact facts ----------------------------------------------------------------------
    @abc.abstractmethod
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of the one-step transition operator, complex128 (V,), |λ| descending, λ₁ = 1."""

    @abc.abstractmethod
    def stationary(self) -> np.ndarray:
        """Stationary distribution π, float64 (V,)."""

    @abc.abstractmethod
    def autocorrelation(self) -> np.ndarray:
        """One-hot autocorrelation C(r) = Σ_a [P(x_t = a, x_{t+r} = a) − π_a²], r = 0 … T−1, float64."""

    @abc.abstractmethod
    def lag_joint(self, r: int) -> np.ndarray:
        """Joint P(x_t = a, x_{t+r} = b) of the stationary process, float64 (V, V)."""

    def count_variance_factor(self) -> np.ndarray:
        """Per symbol a, F_a: how much the input's correlations inflate the noise of a batch's target counts.

        With selection rate p (``mask``, ``bert``; positions selected independently of the tokens),
        the count of scored targets equal to a in one sequence, m_a = Σ_t s_t 1[x_t = a], has
        Var(m_a) = p(1−p)·Tπ_a + p²·Var(n_a), n_a = Σ_t 1[x_t = a], and for a stationary process
        Var(n_a) = Tπ_a(1−π_a) + 2 Σ_{r=1}^{T−1} (T − r)·[P(x_t = a, x_{t+r} = a) − π_a²]
        (from `lag_joint`). F_a = Var(m_a) / Var_iid(m_a), the i.i.d. value dropping the lag sum, so
        F ≡ 1 for i.i.d. input; for the π-matched sticky chain the lag term is π_a(1−π_a)λ^r,
        λ = e^(−1/ξ). A batch of B·F_long/F_short sequences of a long-ξ chain has the per-batch count
        noise of B sequences of the short-ξ chain. ``single`` scores one position: F ≡ 1.
        """
        pi = self.stationary()
        if self.scheme == "single":
            return np.ones_like(pi)
        t, p = self.length, self.rate
        lag = sum((t - r) * (np.diag(self.lag_joint(r)) - pi**2) for r in range(1, t))
        var_n_iid = t * pi * (1 - pi)
        var_iid = p * (1 - p) * t * pi + p**2 * var_n_iid
        return (p * (1 - p) * t * pi + p**2 * (var_n_iid + 2 * lag)) / var_iid

    @property
    def xi(self) -> float:
        """Correlation length ξ = −1/ln|λ₂| (0.0 when λ₂ = 0, e.g. i.i.d.)."""
        return xi_from_eigenvalues(self.eigenvalues())

    # --- floors ---------------------------------------------------------------------------
    @abc.abstractmethod
    def bayes_logprob(
        self, tokens: Integer[ArrayLike, "n length"], inputs: Integer[ArrayLike, "n length"]
    ) -> Float[np.ndarray, "n length"]:
        """ln q_t(x_t) per (sequence, position), float64 (n, T): the Bayes-optimal full-context
        log-probability of the true token were position t scored, q_t = P(x_t | inputs, t selected).

        Meaningful at positions that could have been scored (for ``single``/``mask``: where the
        input is [MASK]); elsewhere it may be −inf or nan. nan everywhere where no exact floor is
        tractable.
        """

    def bayes_loss(
        self, tokens: Integer[ArrayLike, "n length"], inputs: Integer[ArrayLike, "n length"], scored: Bool[ArrayLike, "n length"]
    ) -> tuple[float, float]:
        """Bayes-optimal full-context cross-entropy (nats) pooled over scored positions: (mean, SE).

        Exact per position (``bayes_logprob``); the mean is over the given evaluation set (pool all
        scored positions of all sequences), the SE is the sequence-clustered ratio-estimator SE
        (``_floors.pooled_mean``). (nan, nan) where no exact floor is tractable.
        """
        tokens, inputs, scored = _floors.as_numpy(tokens, inputs, scored)
        return _floors.pooled_mean(-self.bayes_logprob(tokens, inputs), scored)

    def tokenwise_loss(
        self, tokens: Integer[ArrayLike, "n length"], inputs: Integer[ArrayLike, "n length"], scored: Bool[ArrayLike, "n length"]
    ) -> tuple[float, float]:
        """Best context-free loss (nats) pooled over scored positions: (mean, standard error).

        The predictor sees only its own position's input symbol o and that the position is scored:
        q(j | o) ∝ π_j P(o | x = j, selected). Per-position losses are exact; the mean is over
        the given evaluation set, the SE is the sequence-clustered ratio-estimator SE.
        """
        tokens, inputs, scored = _floors.as_numpy(tokens, inputs, scored)
        loss = _floors.tokenwise_logloss(self.stationary(), self.scheme, tokens, inputs)
        return _floors.pooled_mean(loss, scored)

    def expected_tokenwise_loss(self) -> float:
        """Exact expectation of the tokenwise floor: Σ_j π_j Σ_o P(o | j, sel) (−ln q(j | o)).

        80/10/10 with uniform π at V = 16: 2.6102; [MASK]-only: H(π) (ln V for uniform π).
        """
        return _floors.expected_tokenwise_loss(self.stationary(), self.scheme)
