"""Long-range control: a sticky chain whose stickiness α is drawn once per sequence from Beta(a, b)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from ..registry import INPUTS
from ._base import InputConfig
from ._numerics import check_pi, resolve_pi
from ._sticky import PI_FIELD_DESCRIPTION

if TYPE_CHECKING:
    from ._beta_mixture import BetaStickyInput

__all__ = ["BetaSticky"]


@INPUTS.register
class BetaSticky(InputConfig):
    """Long-range sticky mixture: α ~ Beta(a, b) per sequence, C(r) ∝ B(a+r, b)/B(a, b) ~ r^(−b).

    Each sequence is a sticky chain P_α = αI + (1−α)𝟙πᵀ with its own α; the ensemble has
    power-law correlations (not ergodic within a sequence). Mean stickiness ᾱ = a/(a + b).
    The Bayes floor integrates α exactly by Gauss–Jacobi quadrature (see BetaStickyInput).
    """

    kind: Literal["beta_sticky"] = "beta_sticky"
    a: float = Field(4.0, gt=0, le=1e4, allow_inf_nan=False, description="Beta shape a (mean ᾱ = a/(a+b))")
    b: float = Field(0.5, gt=0, le=1e4, allow_inf_nan=False, description="Beta shape b: C(r) ~ r^(−b) at large r")
    pi: tuple[float, ...] | None = Field(None, description=PI_FIELD_DESCRIPTION)

    @model_validator(mode="after")
    def _check(self):
        check_pi(self.pi, self.vocab)
        return self

    def build(self) -> BetaStickyInput:
        from ._beta_mixture import BetaStickyInput

        return BetaStickyInput(
            resolve_pi(self.pi, self.vocab),
            self.a,
            self.b,
            length=self.length,
            scheme=self.masking.scheme,
            rate=self.masking.rate,
        )
