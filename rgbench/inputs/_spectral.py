"""Markov chains with a prescribed spectrum: general reversible, block, cyclic and cluster-HMM."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
from jaxtyping import Float
from pydantic import Field, model_validator

from ..registry import INPUTS
from ._base import InputConfig
from ._numerics import check_pi, resolve_pi
from ._sticky import PI_FIELD_DESCRIPTION

if TYPE_CHECKING:
    from ._markov import MarkovInput

__all__ = ["Block", "ClusterHMM", "Cyclic", "Spectral", "block_matrix", "cyclic_matrix", "spectral_matrix"]

_XI = {"gt": 0, "allow_inf_nan": False}


def _alpha(xi: float) -> float:
    return math.exp(-1.0 / xi)


def _build(cfg: InputConfig, P: np.ndarray, pi: np.ndarray) -> MarkovInput:
    from ._markov import MarkovInput

    return MarkovInput(P, pi, length=cfg.length, scheme=cfg.masking.scheme, rate=cfg.masking.rate)


def _basis(pi: np.ndarray) -> np.ndarray:
    """Orthogonal U with first column √π and smooth, delocalised further columns.

    QR of [√π | DCT-II modes 1 … V−1]: for uniform π this is exactly the orthonormal DCT-II basis
    (mode k oscillates k/2 times across the vocabulary). Delocalised modes keep entries of P
    non-negative for much larger |λ| than the worst-case bound π_min/(1−π_min).
    """
    V = len(pi)
    i = np.arange(V)[:, None] + 0.5
    k = np.arange(V)[None, :]
    C = np.sqrt(2.0 / V) * np.cos(np.pi * i * k / V)
    M = np.concatenate([np.sqrt(pi)[:, None], C[:, 1:]], axis=1)
    Q, R = np.linalg.qr(M)
    return Q * np.sign(np.diag(R))[None, :]


def spectral_matrix(spectrum: Sequence[float] | Float[np.ndarray, " k"], pi: Float[np.ndarray, " v"]) -> Float[np.ndarray, "v v"]:
    """P = D^(−½) U diag(1, λ₂, …, λ_V) Uᵀ D^(½), D = diag(π), U = ``_basis(π)`` (reversible w.r.t. π)."""
    pi = np.asarray(pi, dtype=np.float64)
    V = len(pi)
    lam = np.zeros(V)
    lam[0] = 1.0
    lam[1 : 1 + len(spectrum)] = spectrum
    U = _basis(pi)
    S = (U * lam[None, :]) @ U.T
    s = np.sqrt(pi)
    return S * s[None, :] / s[:, None]


@INPUTS.register
class Spectral(InputConfig):
    """Reversible Markov chain with a prescribed real spectrum {1, λ₂, …, λ_V} and stationary law π.

    P = D^(−½) U diag(1, λ₂, …) Uᵀ D^(½) with D = diag(π) and U orthogonal, first column √π
    (docs/science.md, "Markov inputs with chosen spectra"). U's further columns are the
    smooth DCT-II modes (Gram–Schmidt against √π), λ_k assigned in the given order, lowest
    frequency first. Entries are guaranteed non-negative only for max|λ| ≤ π_min/(1−π_min);
    beyond, the config is checked and refused with the offending entry (use block, cyclic or
    sticky for strong correlations).
    """

    kind: Literal["spectral"] = "spectral"
    spectrum: tuple[float, ...] = Field(
        (0.5,),
        min_length=1,
        description="λ₂, λ₃, … (real, |λ| < 1, at most vocab − 1 of them); missing trailing entries are 0",
    )
    pi: tuple[float, ...] | None = Field(None, description=PI_FIELD_DESCRIPTION)

    @model_validator(mode="after")
    def _check(self):
        check_pi(self.pi, self.vocab)
        if len(self.spectrum) > self.vocab - 1:
            raise ValueError(
                f"spectral `spectrum` has {len(self.spectrum)} entries; at most vocab − 1 = {self.vocab - 1} allowed"
            )
        bad = [x for x in self.spectrum if not (abs(x) < 1.0)]
        if bad:
            raise ValueError(f"spectral eigenvalues must satisfy |λ| < 1 (ergodic chain); got {bad[0]!r}")
        pi = resolve_pi(self.pi, self.vocab)
        P = spectral_matrix(self.spectrum, pi)
        if P.min() < -1e-12:
            i, j = np.unravel_index(np.argmin(P), P.shape)
            bound = float(pi.min() / (1.0 - pi.min()))
            raise ValueError(
                f"spectral chain with spectrum {list(self.spectrum)} would have a negative transition entry "
                f"P[{i},{j}] = {P[i, j]:.4g}; entries are guaranteed non-negative only for max|λ| ≤ "
                f"π_min/(1−π_min) = {bound:.4g}. Shrink the eigenvalues, or use kind block, cyclic or sticky "
                "for strong correlations"
            )
        return self

    def build(self) -> MarkovInput:

        pi = resolve_pi(self.pi, self.vocab)
        return _build(self, spectral_matrix(self.spectrum, pi), pi)


def block_matrix(vocab: int, blocks: int, lam_fast: float, lam_slow: float) -> np.ndarray:
    """aI + bB + cJ/V with a = λ_fast, a + b = λ_slow, c = 1 − λ_slow; B averages within blocks."""
    size = vocab // blocks
    group = np.arange(vocab) // size
    B = (group[:, None] == group[None, :]) / size
    a, b = lam_fast, lam_slow - lam_fast
    return a * np.eye(vocab) + b * B + (1.0 - lam_slow) * np.full((vocab, vocab), 1.0 / vocab)


@INPUTS.register
class Block(InputConfig):
    """Block chain with two correlation lengths: aI + bB + cJ/V, B averaging within m blocks.

    Eigenvalues (docs/science.md): a = e^(−1/ξ_fast) (V − m times, directions within
    blocks), a + b = e^(−1/ξ_slow) (m − 1 times, directions between blocks) and 1; c = 1 − a − b.
    Blocks are contiguous runs of V/m tokens; π is uniform; reversible.
    """

    kind: Literal["block"] = "block"
    blocks: int = Field(4, ge=2, description="number of blocks m (divides vocab, blocks of ≥ 2 tokens)")
    xi_fast: float = Field(1.2, **_XI, description="ξ of the V − m within-block directions (eigenvalue a)")
    xi_slow: float = Field(6.7, **_XI, description="ξ of the m − 1 between-block directions (eigenvalue a + b)")

    @model_validator(mode="after")
    def _check(self):
        V, m = self.vocab, self.blocks
        if V % m or V // m < 2:
            raise ValueError(
                f"block `blocks` = {m} must divide vocab = {V} into blocks of at least 2 tokens "
                f"(allowed: divisors of {V} between 2 and {V // 2})"
            )
        P = block_matrix(V, m, _alpha(self.xi_fast), _alpha(self.xi_slow))
        if P.min() < -1e-12:
            raise ValueError(
                f"block chain with xi_fast = {self.xi_fast} > xi_slow = {self.xi_slow} would have a negative "
                f"transition entry ({P.min():.4g}); need (λ_slow − λ_fast)·m + 1 − λ_slow ≥ 0 — "
                "lower xi_fast or raise xi_slow"
            )
        return self

    def build(self) -> MarkovInput:

        P = block_matrix(self.vocab, self.blocks, _alpha(self.xi_fast), _alpha(self.xi_slow))
        return _build(self, P, np.full(self.vocab, 1.0 / self.vocab))


def cyclic_matrix(vocab: int, alpha: float) -> np.ndarray:
    """αS + (1−α)J/V with S the cyclic shift S_ij = 1[j = i + 1 mod V]."""
    S = np.roll(np.eye(vocab), 1, axis=1)
    return alpha * S + (1.0 - alpha) * np.full((vocab, vocab), 1.0 / vocab)


@INPUTS.register
class Cyclic(InputConfig):
    """Non-reversible cyclic chain αS + (1−α)J/V: complex spectrum α·e^(2πik/V), |λ| = α for k ≠ 0.

    S is the cyclic shift i → i + 1 (mod V); α = e^(−1/ξ); π is uniform. C(r) = α^r (1[V | r] − 1/V).
    """

    kind: Literal["cyclic"] = "cyclic"
    xi: float = Field(1.2, **_XI, description="correlation length ξ = −1/ln α (|λ_k| = α for k ≠ 0)")

    def build(self) -> MarkovInput:

        return _build(self, cyclic_matrix(self.vocab, _alpha(self.xi)), np.full(self.vocab, 1.0 / self.vocab))


@INPUTS.register
class ClusterHMM(InputConfig):
    """Cluster HMM: sticky hidden chain on m states, each emitting uniformly over its V/m tokens.

    Hidden P_h = αI + (1−α)J/m, α = e^(−1/ξ); emissions have disjoint supports, so the token
    reveals the hidden state and the token process is itself the first-order chain
    P_ij = (α 1[c(i) = c(j)] + (1−α)/m)·m/V (exact forward–backward on tokens). Spectrum
    {1, α (m − 1 times), 0 (V − m times)}: m − 1 relevant directions at every ξ (rgbench science
    notes). π uniform.
    """

    kind: Literal["cluster_hmm"] = "cluster_hmm"
    clusters: int = Field(4, ge=2, description="hidden states m (divides vocab)")
    xi: float = Field(1.2, **_XI, description="correlation length of the hidden sticky chain, ξ = −1/ln α")

    @model_validator(mode="after")
    def _check(self):
        if self.vocab % self.clusters:
            raise ValueError(f"cluster_hmm `clusters` = {self.clusters} must divide vocab = {self.vocab}")
        return self

    def build(self) -> MarkovInput:

        V, m, a = self.vocab, self.clusters, _alpha(self.xi)
        group = np.arange(V) // (V // m)
        P = (a * (group[:, None] == group[None, :]) + (1.0 - a) / m) * (m / V)
        return _build(self, P, np.full(V, 1.0 / V))
