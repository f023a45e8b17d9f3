from typing import Literal

from pydantic import Field

from ..registry import INPUTS
from ._base import InputConfig


@INPUTS.register
class Sticky(InputConfig):
    """π-matched sticky Markov chain P = αI + (1−α)𝟙πᵀ (placeholder until issue 3 lands)."""

    kind: Literal["sticky"] = "sticky"
    xi: float = Field(1.2, gt=0, description="correlation length ξ = −1/ln|λ₂|")
