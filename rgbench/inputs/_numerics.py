"""NumPy facts shared by the input configs and their runtime objects: π validation, eigenvalues, ξ.

The bottom of the inputs package: it imports neither the configs nor JAX.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_pi", "eigenvalues_of_joint", "resolve_pi", "sort_eigenvalues", "xi_from_eigenvalues"]


def check_pi(pi: tuple[float, ...] | None, vocab: int, where: str = "pi") -> None:
    """Validate an optional stationary distribution (raises ValueError stating value and fix)."""
    if pi is None:
        return
    if len(pi) != vocab:
        raise ValueError(f"`{where}` must have vocab = {vocab} entries; got {len(pi)}")
    bad = [p for p in pi if not (p > 0.0 and math.isfinite(p))]
    if bad:
        raise ValueError(f"`{where}` entries must be finite and > 0; got {bad[0]!r}")
    total = math.fsum(pi)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"`{where}` must sum to 1 (within 1e-6); got sum {total!r}")


def resolve_pi(pi: tuple[float, ...] | None, vocab: int) -> np.ndarray:
    """π as float64, exactly normalised; uniform when None."""
    if pi is None:
        return np.full(vocab, 1.0 / vocab)
    p = np.asarray(pi, dtype=np.float64)
    return p / p.sum()


def xi_from_eigenvalues(eigenvalues: np.ndarray) -> float:
    """Correlation length ξ = −1/ln|λ₂| from eigenvalues sorted by |λ| descending.

    |λ₂| below 1e-12 counts as 0 (ξ = 0): eigensolvers return ~1e-16 for exact zeros, which would
    otherwise read as ξ ≈ 0.027.
    """
    if len(eigenvalues) < 2:
        return 0.0
    lam2 = float(abs(eigenvalues[1]))
    if lam2 < 1e-12:
        return 0.0
    if lam2 >= 1.0:
        return math.inf
    return -1.0 / math.log(lam2)


def sort_eigenvalues(ev: np.ndarray) -> np.ndarray:
    """complex128, by |λ| descending, ties by real part then imaginary part descending."""
    ev = np.asarray(ev, dtype=np.complex128)
    order = np.lexsort((-np.round(ev.imag, 12), -np.round(ev.real, 12), -np.round(np.abs(ev), 12)))
    return ev[order]


def eigenvalues_of_joint(joint: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """Eigenvalues of the one-step transition D⁻¹J from a lag-1 joint J (symmetric J: via eigvalsh)."""
    if np.allclose(joint, joint.T, atol=1e-13):
        s = np.sqrt(pi)
        S = joint / s[:, None] / s[None, :]
        return sort_eigenvalues(np.linalg.eigvalsh((S + S.T) / 2))
    return sort_eigenvalues(np.linalg.eigvals(joint / pi[:, None]))
