"""What a suite predicts: the selection of an observable from a case dataset and the test applied.

Placeholder contract until issue 7 lands; `rgbench.spec` builds the full `Prediction` model by adding
`observable` and `test` fields whose allowed kinds come from the OBSERVABLES and TESTS registries.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .registry import OBSERVABLES, TESTS, Component


class PredictionBase(BaseModel):
    """Fields of a prediction other than the registry-dispatched `observable` and `test`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str = Field(min_length=1, description="the claim in words, printed next to its verdict")
    stage: Literal["init", "trained"] | None = Field(None, description="parameter snapshot; null = observable's default")
    layers: str | None = Field(
        None, pattern=r"^-?\d*:?-?\d*$", description="python-style slice of layers, e.g. '1:' (layer 0 is the embedding)"
    )
    role: Literal["all", "masked", "visible"] = Field("all", description="which positions the observable is taken on")


@OBSERVABLES.register
class EffectiveRank(Component):
    """Roy–Vetterli effective rank of the residual stream per position, averaged over positions."""

    kind: Literal["effective_rank"] = "effective_rank"


@TESTS.register
class Monotone(Component):
    """Per seed, Spearman correlation along a dimension beyond a threshold."""

    kind: Literal["monotone"] = "monotone"
    along: str = Field("layer", description="dimension the trend runs along")
    direction: Literal["increasing", "decreasing"] = "decreasing"
    spearman_at_most: float = Field(-0.9, ge=-1, le=1)
    seeds_at_least: float = Field(0.8, gt=0, le=1)


@TESTS.register
class Difference(Component):
    """Statistic of this case minus that of another case (paired by seed) is at least a threshold."""

    kind: Literal["difference"] = "difference"
    compare_to: str = Field(description="case id to compare against")
    at_least: float = 0.0
    paired: bool = True
