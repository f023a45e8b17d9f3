"""The input-distribution contract shared by every family (see rgbench/inputs/__init__.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..registry import Component


class Masking(BaseModel):
    """Which positions are scored and how they are corrupted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: Literal["single", "mask", "bert"] = Field(
        "bert", description="single: one [MASK] per sequence; mask: rate ρ, [MASK] only; bert: rate ρ, 80/10/10"
    )
    rate: float = Field(0.15, gt=0.0, lt=1.0, description="fraction of positions scored (mask, bert)")


class InputConfig(Component):
    """Base of every input family: vocabulary, sequence length and masking."""

    vocab: int = Field(16, ge=2, le=4096, description="number of symbols V ([MASK] is symbol V)")
    length: int = Field(64, ge=2, le=65536, description="sequence length T")
    masking: Masking = Field(default_factory=Masking, description="masking scheme")
