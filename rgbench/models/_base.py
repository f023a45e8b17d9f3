"""The architecture contract shared by every family (see rgbench/models/__init__.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..registry import Component


class ArchitectureConfig(Component):
    """Base of every residual MLP family."""

    depth: int = Field(6, ge=1, le=1024, description="number of residual blocks L")
    width: int = Field(64, ge=1, le=65536, description="residual stream width d")
    hidden_mult: float = Field(4.0, gt=0, description="hidden width of each MLP as a multiple of d")
    activation: Literal["gelu", "relu", "tanh"] = Field("gelu", description="MLP nonlinearity")
    norm: Literal["layernorm", "rmsnorm", "none"] = Field("layernorm", description="pre-norm of each block")
    residual_scale: float | Literal["1", "1/sqrt(L)", "1/L"] = Field(
        1.0, description="branch multiplier α in h ← h + α·f(h): a number, '1/sqrt(L)' or '1/L'"
    )
    init_scale: float = Field(1.0, gt=0, description="multiplier on the default weight-init standard deviation")
    positions: bool = Field(False, description="add a learned positional embedding")
