"""The π-matched sticky chain and its ξ = 0 control (i.i.d. with the same π)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from ..registry import INPUTS
from ._base import InputConfig
from ._numerics import check_pi, resolve_pi

if TYPE_CHECKING:
    from ._markov import MarkovInput

__all__ = ["IID", "PI_FIELD_DESCRIPTION", "Sticky"]

PI_FIELD_DESCRIPTION = "stationary distribution π (vocab entries, each > 0, summing to 1); null = uniform"
DEFAULT_XI = 1.2


@INPUTS.register
class Sticky(InputConfig):
    """π-matched sticky Markov chain P = αI + (1−α)𝟙πᵀ, spectrum {1, α (V−1 times)}.

    Give the correlation length ``xi`` (α = e^(−1/ξ)) or the second eigenvalue ``lambda2`` = α
    directly (which may be negative, down to −min π_i/(1−π_i)), not both; neither means ξ = 1.2.
    π is the same at every ξ (the π-matched family). Reversible; C(r) = α^r (1 − Σπ_a²).
    ξ = 1, 1.2, 6.7, 7 ↔ α = 0.3679, 0.4346, 0.8614, 0.8669 (docs/science.md).
    """

    kind: Literal["sticky"] = "sticky"
    xi: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description="correlation length ξ = −1/ln α (default 1.2 if lambda2 unset; for ξ = 0 use kind iid)",
    )
    lambda2: float | None = Field(None, gt=-1, lt=1, description="second eigenvalue α (alternative to xi; may be negative)")
    pi: tuple[float, ...] | None = Field(None, description=PI_FIELD_DESCRIPTION)

    @model_validator(mode="before")
    @classmethod
    def _default_xi(cls, data: Any) -> Any:
        if isinstance(data, dict):
            xi, lam = data.get("xi"), data.get("lambda2")
            if xi is not None and lam is not None:
                raise ValueError(
                    f"give sticky `xi` or `lambda2`, not both; got xi = {xi!r} and lambda2 = {lam!r} (ξ = −1/ln λ₂; remove one)"
                )
            if xi is None and lam is None:
                data = {**data, "xi": DEFAULT_XI}
        return data

    @model_validator(mode="after")
    def _check(self):
        check_pi(self.pi, self.vocab)
        a = self.alpha
        pi = resolve_pi(self.pi, self.vocab)
        lo = -float(np.min(pi / (1.0 - pi)))
        if a < lo - 1e-15:
            raise ValueError(
                f"sticky lambda2 = {a!r} makes negative transition entries; allowed range is "
                f"[−min π_i/(1−π_i), 1) = [{lo:.6g}, 1) for this π"
            )
        return self

    @property
    def alpha(self) -> float:
        """α = λ₂ = e^(−1/ξ)."""
        if self.lambda2 is not None:
            return float(self.lambda2)
        return math.exp(-1.0 / self.xi)

    def build(self) -> MarkovInput:
        from ._markov import MarkovInput

        pi = resolve_pi(self.pi, self.vocab)
        a = self.alpha
        P = a * np.eye(self.vocab) + (1.0 - a) * np.outer(np.ones(self.vocab), pi)
        return MarkovInput(P, pi, length=self.length, scheme=self.masking.scheme, rate=self.masking.rate)


@INPUTS.register
class IID(InputConfig):
    """Control with ξ = 0: i.i.d. tokens from π (P = 𝟙πᵀ, spectrum {1, 0, …}); same π as sticky."""

    kind: Literal["iid"] = "iid"
    pi: tuple[float, ...] | None = Field(None, description=PI_FIELD_DESCRIPTION)

    @model_validator(mode="after")
    def _check(self):
        check_pi(self.pi, self.vocab)
        return self

    def build(self) -> MarkovInput:
        from ._markov import MarkovInput

        pi = resolve_pi(self.pi, self.vocab)
        P = np.outer(np.ones(self.vocab), pi)
        return MarkovInput(P, pi, length=self.length, scheme=self.masking.scheme, rate=self.masking.rate)
