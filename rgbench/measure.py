"""Trained model + probe batch → labeled xarray.Dataset."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class MeasureConfig(BaseModel):
    """What is measured on a case, and on how many probe samples."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    samples: int = Field(512, ge=2, le=1_000_000, description="probe sequences N (use N ≥ 4·width)")
    stages: list[Literal["init", "trained"]] = Field(
        default_factory=lambda: ["init", "trained"], min_length=1, description="parameter snapshots measured"
    )
