"""Control: any input family with the positions of each sequence randomly permuted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SerializeAsAny, field_validator, model_validator

from ..registry import INPUTS
from ._base import InputConfig

if TYPE_CHECKING:
    from ._shuffled import ShuffledInput

__all__ = ["Shuffle"]


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
        from ._shuffled import ShuffledInput

        inner = self.of.model_copy(update={"masking": self.masking})
        return ShuffledInput(inner.build())
