"""`TrainConfig`: what a suite's ``train:`` mapping may say (plain pydantic, no JAX; ``rgbench.train`` runs it)."""

from __future__ import annotations

from typing import Literal, no_type_check

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

__all__ = ["TrainConfig"]


class TrainConfig(BaseModel):
    """How a case is trained."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = Field(10_000, ge=0, le=10_000_000, description="optimizer steps (0 = untrained)")
    batch: int = Field(32, ge=1, le=1_000_000, description="sequences per step")
    optimizer: Literal["adam", "adamw", "sgd"] = Field("adam", description="optax optimizer")
    lr: float = Field(3e-4, gt=0, le=100, description="peak learning rate")
    weight_decay: float = Field(
        0.0, ge=0, le=100, allow_inf_nan=False, description="decoupled weight decay (adamw) or L2 (others)"
    )
    warmup: int = Field(0, ge=0, le=10_000_000, description="linear warmup steps from 0 to lr (at most `steps`)")
    schedule: Literal["constant", "cosine"] = Field(
        "constant", description="learning-rate schedule after warmup (cosine decays to 0 at `steps`)"
    )
    clip: float | None = Field(None, gt=0, le=1e6, allow_inf_nan=False, description="global gradient-norm clip, or null")
    log_every: int = Field(
        100,
        ge=1,
        le=10_000_000,
        description="steps per compiled scan chunk; one loss value (the chunk's mean) is recorded per chunk",
    )
    eval_sequences: int = Field(1024, ge=1, le=1_000_000, description="fixed evaluation sequences for final_loss and the floors")
    checkpoint_every: int | None = Field(
        None,
        ge=0,
        le=10_000_000,
        description="steps between checkpoints of the training state, rounded up to whole log_every chunks (a run killed "
        "at any point resumes from the last one, bitwise identically); null: about every 10 minutes by the cost "
        "estimate; 0: none. Changes no result, so it is not part of the case's hash",
    )

    @field_validator("warmup")
    @classmethod
    @no_type_check  # `ValidationInfo` is a Protocol isinstance cannot check: no run-time type check here
    def _warmup_within_steps(cls, warmup: int, info: ValidationInfo) -> int:
        steps = info.data.get("steps")  # absent when steps itself is invalid (reported on its own)
        if steps is not None and warmup > steps:
            raise ValueError(f"warmup must be at most `steps` ({steps}): the warmup is part of training")
        return warmup
