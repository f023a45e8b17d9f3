"""Control: any input family with the positions of each sequence randomly permuted."""

from __future__ import annotations

from typing import Any, Literal

import jax
import numpy as np
from jaxtyping import Array, Int, PRNGKeyArray
from pydantic import Field, SerializeAsAny, field_validator, model_validator

from ..registry import INPUTS
from ._base import AbstractInput, InputConfig, eigenvalues_of_joint

__all__ = ["Shuffle", "ShuffledInput"]


class ShuffledInput(AbstractInput):
    """A base input whose sequences are each permuted by an independent uniform permutation.

    The result is exchangeable: every pair of distinct positions has the same joint law, the
    average of the base's lag-d joints over the T(T−1)/2 position pairs,
    J̄ = 2/(T(T−1)) Σ_{d=1}^{T−1} (T−d) J_d. Hence C(0) is the base's and C(r) = Σ_a J̄_aa − Σπ_a²
    for every r ≥ 1; ``eigenvalues`` are those of the one-step transition D⁻¹J̄.

    No exact full-context floor: the posterior at a position depends on the other tokens only
    through their multiset, and evaluating it means summing the base likelihood over all orderings
    (T! terms, a permanent-like sum), so ``bayes_loss`` returns nan. The tokenwise floor depends
    only on π and the masking and is exact.
    """

    base: AbstractInput

    def __init__(self, base: AbstractInput):
        self.base = base
        self.vocab = base.vocab
        self.length = base.length
        self.scheme = base.scheme
        self.rate = base.rate

    def sample(self, key: PRNGKeyArray, n: int) -> Int[Array, "n length"]:
        """Base sequences, each permuted independently (jax.random.permutation, independent=True)."""
        k_base, k_perm = jax.random.split(key)
        return jax.random.permutation(k_perm, self.base.sample(k_base, n), axis=1, independent=True)

    def stationary(self) -> np.ndarray:
        return self.base.stationary()

    def _pair_joint(self) -> np.ndarray:
        T = self.length
        acc = np.zeros((self.vocab, self.vocab))
        for d in range(1, T):
            acc += (T - d) * self.base.lag_joint(d)
        return acc * 2.0 / (T * (T - 1))

    def lag_joint(self, r: int) -> np.ndarray:
        return np.diag(self.stationary()) if r == 0 else self._pair_joint()

    def eigenvalues(self) -> np.ndarray:
        return eigenvalues_of_joint(self._pair_joint(), self.stationary())

    def autocorrelation(self) -> np.ndarray:
        pi = self.stationary()
        base = float(pi @ pi)
        out = np.full(self.length, float(np.trace(self._pair_joint())) - base)
        out[0] = 1.0 - base
        return out

    def bayes_logprob(self, tokens, inputs) -> np.ndarray:
        """All nan: no tractable exact full-context floor for a shuffled sequence (see class doc)."""
        return np.full(np.shape(tokens), np.nan)


@INPUTS.register
class Shuffle(InputConfig):
    """Control: another input family with each sequence's positions randomly permuted.

    ``of`` is any input config (e.g. ``{kind: sticky, xi: 6.7}``). vocab and length are shared:
    a value given on one side only is copied to the other, and the two must agree. The outer
    ``masking`` governs (the inner one is ignored). π and the token counts of each sequence are
    kept, order is destroyed; no exact full-context Bayes floor (returns nan).
    """

    kind: Literal["shuffle"] = "shuffle"
    of: SerializeAsAny[InputConfig] = Field(
        default_factory=lambda: INPUTS.parse({"kind": "sticky"}),
        description="the input family whose sequences are shuffled (a mapping with `kind`)",
    )

    @model_validator(mode="before")
    @classmethod
    def _share_shape(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        inner = data.get("of", {"kind": "sticky"})
        if isinstance(inner, dict):
            inner = dict(inner)
            data = dict(data)
            for key in ("vocab", "length"):
                if key in data and key not in inner:
                    inner[key] = data[key]
                elif key in inner and key not in data:
                    data[key] = inner[key]
            data["of"] = inner
        return data

    @field_validator("of", mode="before")
    @classmethod
    def _parse_of(cls, value: Any) -> Any:
        if isinstance(value, dict):
            if "kind" not in value:
                raise ValueError(f"shuffle `of` needs a `kind` (allowed: {', '.join(INPUTS)}); got {value!r}")
            if value["kind"] not in INPUTS:
                raise ValueError(INPUTS.unknown_message(value["kind"]))
            return INPUTS[value["kind"]].model_validate(value)
        return value

    @model_validator(mode="after")
    def _check(self):
        for key in ("vocab", "length"):
            if getattr(self.of, key) != getattr(self, key):
                raise ValueError(
                    f"shuffle {key} = {getattr(self, key)} differs from its `of` {key} = {getattr(self.of, key)}; "
                    f"give {key} once (either side) or make them equal"
                )
        return self

    def build(self) -> ShuffledInput:
        inner = self.of.model_copy(update={"masking": self.masking})
        return ShuffledInput(inner.build())
