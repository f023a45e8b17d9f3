"""The input-distribution contract shared by every family.

Two layers, as everywhere in rgbench:

* a **config** (``InputConfig`` subclass, frozen pydantic, registered by ``kind``) holds the
  parameters a suite may set and validates them;
* ``config.build()`` returns the **runtime object** (an ``AbstractInput``, an ``eqx.Module``, in
  ``_runtime``) that samples token sequences on device, corrupts them for masked-token training,
  and knows its exact spectrum, autocorrelation and Bayes floors.

This module holds the config half (the NumPy helpers are in ``_numerics``); it imports no
JAX, so reading a suite never pays for it (each family's ``build`` imports its runtime module).

Symbols: tokens are ``0 … V−1``; the model's inputs may also hold ``V`` = [MASK] (``mask_id``).
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..registry import INPUTS, Component

if TYPE_CHECKING:
    from ._runtime import AbstractInput

__all__ = ["InputConfig", "Masking"]


class Masking(BaseModel):
    """Which positions are scored and how they are corrupted.

    Selection for ``mask`` and ``bert`` is **Bernoulli per position**, independently with
    probability ``rate`` (not a fixed count): this keeps the exact Bayes floor a forward–backward
    computation with independent per-position emissions. A sequence may therefore have no scored
    position (probability (1−ρ)^T, 7 % at T = 16, ρ = 0.15); losses are pooled over all scored
    positions of a batch (Σ loss·scored / max(Σ scored, 1)), which is well defined whenever the
    batch has one scored position (probability 1 − (1−ρ)^(nT)).
    ``single`` scores exactly one interior position per sequence (uniform over 1 … T−2), so that
    the Bayes floor equals the closed form 2h(P) − h(P²) of an isolated mask.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: Literal["single", "mask", "bert"] = Field(
        "bert",
        description="single: one [MASK] per sequence at an interior position; "
        "mask: Bernoulli rate ρ, [MASK] only; bert: Bernoulli rate ρ, 80/10/10 ([MASK]/random/kept)",
    )
    rate: float = Field(0.15, gt=0.0, lt=1.0, description="probability a position is scored (mask, bert)")


class InputConfig(Component):
    """Base of every input family: vocabulary, sequence length and masking.

    The contract of a concrete (final) config, registered with ``@INPUTS.register``:
    ``kind: Literal["name"]`` and the family's parameters as pydantic fields, and ``build()``
    (abstract: a class without it cannot be registered), which returns the runtime object, an
    `AbstractInput` (``_runtime``: its docstring lists what that implements; import it inside
    ``build`` so that reading a suite does not import JAX).
    """

    vocab: int = Field(16, ge=2, le=4096, description="number of symbols V ([MASK] is symbol V)")
    length: int = Field(64, ge=2, le=65536, description="sequence length T")
    masking: Masking = Field(default_factory=Masking, description="masking scheme")

    @model_validator(mode="after")
    def _single_needs_interior(self):
        if self.masking.scheme == "single" and self.length < 3:
            raise ValueError(f"masking scheme 'single' masks an interior position and needs length ≥ 3; got length {self.length}")
        return self

    @abc.abstractmethod
    def build(self) -> AbstractInput:
        """The runtime object (sampler, corruption, exact spectrum and floors) for this config."""


INPUTS.require(InputConfig)
